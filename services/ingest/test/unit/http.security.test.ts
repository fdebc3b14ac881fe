import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { indexCatalog, loadCatalogFile } from '@wa/shared/catalog';
import type { NotificationRequestV1 } from '@wa/shared/contracts/notification-request';
import { AppError } from '@wa/shared/errors';
import { createReadiness } from '@wa/shared/readiness';
import { buildApp, type AppDeps } from '../../src/http/app';

// Hostile requests against the ingest HTTP API (no services: the app is driven through inject, which hands the
// raw request line to the same router a socket would).
const TOKEN = 'ingest-token-for-security-tests';
const NOW = Date.parse('2026-03-02T10:00:00Z');
const catalog = indexCatalog(loadCatalogFile(fileURLToPath(new URL('../../../../config/catalog.example.json', import.meta.url))));

function setup(overrides: Partial<AppDeps> = {}) {
  const submitted: NotificationRequestV1[] = [];
  const app = buildApp({
    apiToken: TOKEN,
    maxRecordBytes: 64 * 1024,
    batchBodyLimitBytes: 256 * 1024,
    maxBatchJobs: 100,
    catalog,
    coalesceWindowMs: 0,
    notBeforeHorizonMs: 30 * 86_400_000,
    clock: { now: () => NOW },
    audience: {
      resolve: async () => {
        throw new AppError('audience_unreadable', 'audience file cannot be opened', 'dead-letter');
      },
      chunks: () => {
        throw new Error('not used');
      },
    },
    submit: async (jobs) => {
      submitted.push(...jobs.map((j) => j.request));
      return jobs.map(() => 'accepted' as const);
    },
    registry: new Registry(),
    readiness: createReadiness(),
    ...overrides,
  });
  return { app, submitted };
}

const job = (over: Record<string, unknown> = {}) => ({
  v: 1,
  idempotencyKey: `k-${Math.random()}`,
  sender: { phoneNumberId: '106540352242922' },
  to: '+14155550123',
  template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1', 'shipped'] },
  ...over,
});

/** Spellings of a protected path that a router may treat as the same route. */
function spellings(path: string): string[] {
  const rest = path.slice('/v1/'.length);
  const firstLetter = rest[0]!;
  const encoded = `%${firstLetter.charCodeAt(0).toString(16)}`;
  return [
    `/%761/${rest}`,
    `/v%31/${rest}`,
    `/%76%31/${rest}`,
    `/%56%31/${rest}`,
    `/v1%2F${rest}`,
    `/v1%2f${rest}`,
    `/%2Fv1/${rest}`,
    `/v1/${encoded}${rest.slice(1)}`,
    `//v1/${rest}`,
    `/v1//${rest}`,
    `/./v1/${rest}`,
    `/v1/./${rest}`,
    `/x/../v1/${rest}`,
    `/V1/${rest}`,
    `/v1/${rest.toUpperCase()}`,
    `/v1/${rest}/`,
    `/v1/${rest}?`,
    `/v1/${rest}?x=/healthz`,
    `/v1/${rest};x`,
    `/v1/${rest}%00`,
    `/v1/${rest}#frag`,
    path,
  ];
}

describe('ingest API: the token check hangs on the matched route', () => {
  for (const [method, path, payload] of [
    ['POST', '/v1/notifications', () => job()],
    ['POST', '/v1/notifications:batch', () => ({ jobs: [job()] })],
  ] as const) {
    it(`${method} ${path}: every spelling and method without a token is 401 or 404 and enqueues nothing`, async () => {
      const { app, submitted } = setup();
      const answers: string[] = [];
      for (const url of spellings(path)) {
        for (const m of [method, 'GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'] as const) {
          for (const headers of [
            {},
            { 'x-api-token': '' },
            { authorization: 'Bearer ' },
            { 'x-api-token': TOKEN.toUpperCase() },
            { authorization: `bearer ${TOKEN}x` },
          ]) {
            const res = await app.inject({ method: m, url, headers, ...(m === 'POST' || m === 'PUT' ? { payload: payload() } : {}) });
            if (![401, 404].includes(res.statusCode)) answers.push(`${m} ${url} ${JSON.stringify(headers)} → ${res.statusCode}`);
          }
        }
      }
      expect(answers).toEqual([]);
      expect(submitted).toEqual([]);
    });
  }

  it('a percent-encoded spelling that routes to a handler is served only with the token (the check is not on the spelling)', async () => {
    const { app, submitted } = setup();
    expect((await app.inject({ method: 'POST', url: '/%761/notifications', payload: job() })).statusCode).toBe(401);
    const withToken = await app.inject({ method: 'POST', url: '/%761/notifications', payload: job(), headers: { 'x-api-token': TOKEN } });
    expect(withToken.statusCode).toBe(202);
    expect(submitted).toHaveLength(1);
    // The ops routes stay open; nothing else answers without a token.
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    for (const url of ['/v1', '/v1/', '/', '/v2/notifications', '/notifications']) {
      expect([401, 404]).toContain((await app.inject({ method: 'POST', url, payload: job() })).statusCode);
    }
  });

  it('accepts the previous token during a rotation, and only the configured ones', async () => {
    const { app } = setup({ previousApiToken: 'the-old-ingest-token-being-rotated' });
    expect(
      (await app.inject({ method: 'POST', url: '/v1/notifications', payload: job(), headers: { authorization: 'Bearer the-old-ingest-token-being-rotated' } }))
        .statusCode,
    ).toBe(202);
    expect((await app.inject({ method: 'POST', url: '/v1/notifications', payload: job(), headers: { 'x-api-token': TOKEN } })).statusCode).toBe(202);
    expect(
      (await app.inject({ method: 'POST', url: '/v1/notifications', payload: job(), headers: { 'x-api-token': 'the-old-ingest-token-being-rotatex' } }))
        .statusCode,
    ).toBe(401);
  });

  it('POST /v1/notificationsXYZ does not reach the batch handler (`:batch` is a literal, not a parameter)', async () => {
    const { app, submitted } = setup();
    for (const url of ['/v1/notificationsXYZ', '/v1/notifications:batchX', '/v1/notifications:', '/v1/notifications%3Abatc']) {
      const res = await app.inject({ method: 'POST', url, payload: { jobs: [job()] }, headers: { 'x-api-token': TOKEN } });
      expect(res.statusCode, url).toBe(404);
    }
    expect(submitted).toEqual([]);
    const batch = await app.inject({ method: 'POST', url: '/v1/notifications:batch', payload: { jobs: [job()] }, headers: { 'x-api-token': TOKEN } });
    expect(batch.statusCode).toBe(202);
  });
});

describe('ingest API: single and inline-recipient requests are validated synchronously (400 naming every field)', () => {
  const auth = { 'x-api-token': TOKEN };

  it('a single recipient with missing template parameters, or a number like +1 / 12345, is 400 at once, not 202 and a dead letter later', async () => {
    const { app, submitted } = setup();
    const noParams = await app.inject({
      method: 'POST',
      url: '/v1/notifications',
      headers: auth,
      payload: job({ template: { name: 'order_update', language: 'en_US', category: 'utility' } }),
    });
    expect(noParams.statusCode).toBe(400);
    // The template's structure is checked when the request is planned, so the issue names the template.
    expect(noParams.json().issues).toEqual([
      {
        path: 'template',
        message: expect.stringMatching(/^template_params_mismatch: template order_update\/en_US: bodyParams: body takes 2 parameters, got 0/),
      },
    ]);
    for (const to of ['+1', '12345', '+999999', 'not-a-number']) {
      const res = await app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: job({ to }) });
      expect(res.statusCode, to).toBe(400);
      expect(res.json().issues, to).toEqual([{ path: 'to', message: expect.stringMatching(/^invalid_recipient: /) }]);
    }
    expect(submitted).toEqual([]);
  });

  it('inline recipients: every bad entry is named (index), nothing is enqueued; a clean list is 202', async () => {
    const { app, submitted } = setup();
    const recipients = [
      '+14155550123',
      { to: '+14155550124', bodyParams: ['only-one'] },
      '+1',
      { to: '+14155550125', bodyParams: ['A-2', 'shipped'] },
      '12345',
    ];
    const res = await app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: job({ to: undefined, recipients }) });
    expect(res.statusCode).toBe(400);
    expect(res.json().issues.map((i: { path: string }) => i.path)).toEqual(['recipients.1', 'recipients.2', 'recipients.4']);
    const batch = await app.inject({ method: 'POST', url: '/v1/notifications:batch', headers: auth, payload: { jobs: [job(), job({ to: '+1' })] } });
    expect(batch.statusCode).toBe(400);
    expect(batch.json().issues).toEqual([{ path: 'jobs.1.to', message: expect.stringMatching(/^invalid_recipient/) }]);
    expect(submitted).toEqual([]);
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/notifications',
      headers: auth,
      payload: job({ to: undefined, recipients: ['+14155550123', { to: '+14155550125', bodyParams: ['A-2', 'shipped'] }] }),
    });
    expect(ok.statusCode).toBe(202);
  });

  it('notBefore beyond the horizon (default 30 days) is 400; within it, accepted', async () => {
    const { app, submitted } = setup();
    for (const notBefore of ['9999-12-31T00:00:00Z', new Date(NOW + 31 * 86_400_000).toISOString()]) {
      const res = await app.inject({ method: 'POST', url: '/v1/notifications', headers: auth, payload: job({ notBefore }) });
      expect(res.statusCode, notBefore).toBe(400);
      expect(res.json().issues, notBefore).toEqual([{ path: 'notBefore', message: expect.stringContaining('more than 30 days ahead') }]);
    }
    expect(submitted).toEqual([]);
    const ok = await app.inject({
      method: 'POST',
      url: '/v1/notifications',
      headers: auth,
      payload: job({ notBefore: new Date(NOW + 29 * 86_400_000).toISOString() }),
    });
    expect(ok.statusCode).toBe(202);
  });
});

describe('the Kafka path refuses the same horizon (it dead-letters instead of answering)', () => {
  it('notBeforeBeyondHorizon names the problem beyond the horizon and nothing within it', async () => {
    const { notBeforeBeyondHorizon } = await import('../../src/domain/schedule');
    const horizon = 30 * 86_400_000;
    expect(notBeforeBeyondHorizon({ notBefore: '9999-12-31T00:00:00Z' }, NOW, horizon)).toMatch(/more than 30 days ahead/);
    expect(notBeforeBeyondHorizon({ notBefore: new Date(NOW + horizon + 1_000).toISOString() }, NOW, horizon)).not.toBeNull();
    expect(notBeforeBeyondHorizon({ notBefore: new Date(NOW + horizon).toISOString() }, NOW, horizon)).toBeNull();
    expect(notBeforeBeyondHorizon({}, NOW, horizon)).toBeNull();
  });
});
