import { afterEach, describe, expect, it } from 'vitest';
import { indexCatalog } from '@wa/shared/catalog';
import { systemClock } from '@wa/shared/clock';
import { createLogger } from '@wa/shared/logger';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { waitFor } from '@wa/shared/testing';
import { GraphSenderSync } from '../../src/adapters/graph-sender-sync';
import { RedisAccountState } from '../../src/adapters/redis-account-state';
import { Harness, PORTFOLIO, TOKEN, WABA, world } from './harness';

/**
 * Webhooks get lost: the simulator upgrades a number, flags another and raises the portfolio's limit
 * with no webhook receiver configured, and the dispatcher learns all of it from the Graph API
 * (GET /{phone-number-id}?fields=throughput,quality_rating,whatsapp_business_manager_messaging_limit,…).
 */
let h: Harness | undefined;

/** The sync of one run, called by hand (no timer). */
function senderSync(
  harness: Harness,
  catalog: ReturnType<typeof indexCatalog>,
  keys: ReturnType<typeof createRedisKeys>,
  logger: ReturnType<typeof createLogger>,
): GraphSenderSync {
  return new GraphSenderSync(harness.redis, {
    baseUrl: harness.simUrl,
    version: 'v24.0',
    accessTokens: new Map([[WABA, TOKEN]]),
    catalog,
    keys,
    intervalMs: 0,
    timeoutMs: 5_000,
    stateTtlMs: 60_000,
    clock: systemClock,
    logger,
  });
}
const stops: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const s of stops.splice(0).reverse()) await s();
  await h?.teardown();
  h = undefined;
});

describe('sender state from the Graph API', () => {
  it('applies a throughput upgrade, a quality drop and a new messaging limit whose webhooks never arrived', async () => {
    h = new Harness();
    await h.redis.connect();
    const w = world(
      [
        { id: '1001', mps: 80 },
        { id: '1002', mps: 20 },
      ],
      { messagingLimit: 2_000 },
    );
    const sim = await h.startSim(w.scenario);
    const logger = createLogger({ service: 'sender-sync-test', level: 'error' });
    const keys = createRedisKeys(h.redisPrefix);
    const catalog = indexCatalog(w.catalog);
    const account = new RedisAccountState(h.redis, { keys, keyPrefix: h.redisPrefix, catalog, refreshMs: 60_000, logger });
    await account.start();
    stops.push(() => account.stop());
    const sync = senderSync(h, catalog, keys, logger);

    expect(await sync.runOnce()).toEqual({ read: 2, failed: [] });
    await waitFor(() => account.messagingLimitState('' + WABA).source === 'graph_api', { description: 'first read applied' });
    expect(account.throughputMps('1001')).toBe(80);
    expect(account.throughputMps('1002')).toBe(20); // STANDARD keeps a lower configured rate (Business app numbers: 20)

    sim.event({ type: 'phone_number_quality_update', phoneNumberId: '1001', event: 'THROUGHPUT_UPGRADE' });
    sim.event({ type: 'phone_number_quality_update', phoneNumberId: '1002', event: 'FLAGGED' });
    sim.event({ type: 'business_capability_update', businessId: PORTFOLIO, messagingLimit: 100_000 });
    expect(await sync.runOnce()).toEqual({ read: 2, failed: [] });
    await waitFor(() => account.throughputMps('1001') === 1_000 && account.quality('1002') === 'RED' && account.messagingLimit(WABA) === 100_000, {
      description: 'all three applied',
    });
    expect(account.phoneState('1001').throughputMps).toMatchObject({ value: 1_000, source: 'graph_api' });
    expect(account.phoneState('1002').quality).toMatchObject({ value: 'RED', source: 'graph_api' });
    expect(account.messagingLimitState(WABA)).toMatchObject({ value: 100_000, source: 'graph_api' });
    expect(await h.redis.pttl(keys.phoneQuality('1001'))).toBeGreaterThan(0);
  });

  it('a number it cannot read is reported and the others are still applied', async () => {
    h = new Harness();
    await h.redis.connect();
    const w = world([{ id: '1001', mps: 80 }]);
    await h.startSim(w.scenario);
    const logger = createLogger({ service: 'sender-sync-test', level: 'silent' });
    const keys = createRedisKeys(h.redisPrefix);
    const catalog = indexCatalog({
      ...w.catalog,
      phoneNumbers: [...w.catalog.phoneNumbers, { id: '9999', wabaId: WABA, displayNumber: '15550009999', throughputMps: 80 }],
    });
    const sync = senderSync(h, catalog, keys, logger);
    const result = await sync.runOnce();
    expect(result.read).toBe(1);
    expect(result.failed).toEqual([{ phoneNumberId: '9999', reason: expect.stringMatching(/^HTTP 400/) }]);
  });
});
