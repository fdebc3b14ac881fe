import { describe, expect, it } from 'vitest';
import pino from 'pino';
import { Writable } from 'node:stream';
import {
  countryOfPhone,
  createLogger,
  createReadiness,
  createShutdown,
  hashRecipient,
  maskPhone,
  normalisePhone,
  parseAccessTokens,
  parseCatalog,
  parseMessagingLimit,
} from '../src';

describe('phone numbers', () => {
  it('normalises to E.164 digits with the country', () => {
    expect(normalisePhone('+44 7400 123456')).toEqual({ ok: true, waId: '447400123456', country: 'GB' });
    expect(normalisePhone('0044 7400 123456')).toEqual({ ok: true, waId: '447400123456', country: 'GB' });
    expect(normalisePhone('+52 55 1234 5678')).toMatchObject({ ok: true, waId: '525512345678', country: 'MX' });
    expect(normalisePhone('07400 123456', 'GB')).toMatchObject({ ok: true, waId: '447400123456' });
  });
  it('refuses what is not a number', () => {
    expect(normalisePhone('')).toMatchObject({ ok: false });
    expect(normalisePhone('call me')).toMatchObject({ ok: false, reason: 'phone number contains letters' });
    expect(normalisePhone('+44 12')).toMatchObject({ ok: false });
  });
  it('tells the country and hashes without the number', () => {
    expect(countryOfPhone('919876543210')).toBe('IN');
    expect(countryOfPhone('1')).toBe('ZZ');
    expect(hashRecipient('447911123456', 's')).toBe(hashRecipient('447911123456', 's'));
    expect(hashRecipient('447911123456', 's')).not.toBe(hashRecipient('447911123456', 't'));
    expect(hashRecipient('447911123456', 's')).not.toContain('7911');
  });
});

describe('messaging limit tiers', () => {
  it.each([
    ['TIER_250', 250],
    ['TIER_2K', 2000],
    ['TIER_10K', 10000],
    ['TIER_100K', 100000],
    ['TIER_UNLIMITED', null],
    [100000, 100000],
    ['2000', 2000],
  ] as const)('%s → %s', (input, limit) => {
    expect(parseMessagingLimit(input)).toBe(limit);
  });
  it('does not guess at unknown values', () => {
    expect(parseMessagingLimit('TIER_7')).toBeUndefined();
    expect(parseMessagingLimit(1234)).toBeUndefined();
    expect(parseMessagingLimit({})).toBeUndefined();
  });
});

describe('logger redaction', () => {
  it('never prints tokens, secrets or full phone numbers', () => {
    const lines: string[] = [];
    const sink = new Writable({ write: (chunk, _enc, cb) => (lines.push(String(chunk)), cb()) });
    const logger = createLogger({ service: 't', destination: sink as unknown as pino.DestinationStream });
    logger.info({ accessToken: 'EAAG-secret', to: '447911123456', job: { to: '447911123456', token: 'x' }, appSecret: 's3' }, 'hello');
    const line = lines.join('');
    expect(line).not.toContain('EAAG-secret');
    expect(line).not.toContain('447911123456');
    expect(line).not.toContain('s3"');
    expect(JSON.parse(line)).toMatchObject({ svc: 't', msg: 'hello', level: 'info' });
    expect(maskPhone('447911123456')).toBe('4479…56');
  });
});

describe('catalog', () => {
  const catalog = {
    businesses: [{ wabaId: '1', portfolioId: 'p' }],
    phoneNumbers: [{ id: '11', wabaId: '1', displayNumber: '15550000001' }],
    pools: { main: ['11'] },
  };
  it('applies defaults', () => {
    const parsed = parseCatalog(catalog);
    expect(parsed.phoneNumbers[0]).toMatchObject({ throughputMps: 80 });
    expect(parsed.businesses[0]).toMatchObject({ messagingLimit: 250 });
  });
  it('names dangling references', () => {
    expect(() => parseCatalog({ ...catalog, pools: { main: ['99'] } })).toThrow(/pools\.main\.0: unknown phone number 99/);
    expect(() => parseCatalog({ ...catalog, phoneNumbers: [{ id: '11', wabaId: '2', displayNumber: '15550000001' }] })).toThrow(/phoneNumbers\.0\.wabaId/);
  });
  it('reads access tokens from the environment format', () => {
    expect(parseAccessTokens('1=abc, 2=def')).toEqual(
      new Map([
        ['1', 'abc'],
        ['2', 'def'],
      ]),
    );
    expect(() => parseAccessTokens('1abc')).toThrow(/wabaId=token/);
  });
});

describe('shutdown', () => {
  const silent = pino({ level: 'silent' });
  it('runs steps once, in reverse order, past a failing step', async () => {
    const order: string[] = [];
    const shutdown = createShutdown({ logger: silent, timeoutMs: 1000 });
    shutdown.add('clients', () => void order.push('clients'));
    shutdown.add('producer', () => {
      order.push('producer');
      throw new Error('flush failed');
    });
    shutdown.add('consumer', async () => void order.push('consumer'));
    const [first, second] = await Promise.all([shutdown.close(), shutdown.close()]);
    expect(order).toEqual(['consumer', 'producer', 'clients']);
    expect(first).toBe(false);
    expect(second).toBe(false);
  });
  it('gives up at the deadline', async () => {
    const shutdown = createShutdown({ logger: silent, timeoutMs: 50 });
    shutdown.add('stuck', () => new Promise(() => undefined));
    expect(await shutdown.close()).toBe(false);
  });
});

describe('readiness', () => {
  it('is ready only after start-up, with every check answering, and not while stopping', async () => {
    const readiness = createReadiness(50);
    let redisUp = true;
    readiness.addCheck('redis', async () => {
      if (!redisUp) throw new Error('ECONNREFUSED');
    });
    readiness.addCheck('kafka', () => new Promise(() => undefined));
    expect((await readiness.evaluate()).ready).toBe(false);
    readiness.markStarted();
    const report = await readiness.evaluate();
    expect(report.checks.kafka).toEqual({ ok: false, error: 'no answer within 50 ms' });
    readiness.addCheck('kafka', async () => true);
    expect((await readiness.evaluate()).ready).toBe(true);
    redisUp = false;
    expect((await readiness.evaluate()).checks.redis).toEqual({ ok: false, error: 'ECONNREFUSED' });
    redisUp = true;
    readiness.markStopping();
    expect((await readiness.evaluate()).ready).toBe(false);
    expect(readiness.live).toBe(false);
  });
});

describe('createClickHouse against a server', () => {
  it('has no embedded engine behind it (the analytics store then inserts through the HTTP client)', async () => {
    const { createClickHouse, embeddedChdbOf } = await import('../src/clickhouse');
    const ch = await createClickHouse({ url: 'http://127.0.0.1:1', path: '' });
    try {
      expect(embeddedChdbOf(ch)).toBeUndefined();
    } finally {
      await ch.close();
    }
  });
});
