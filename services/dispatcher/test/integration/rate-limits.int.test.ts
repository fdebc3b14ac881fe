import { afterEach, describe, expect, it } from 'vitest';
import { createRedisKeys } from '@wa/shared/redis-keys';
import { waitFor } from '@wa/shared/testing';
import type { SentEventV1 } from '@wa/shared/contracts/sent-event';
import { Harness, job, recipient, world } from './harness';
import { spawnDispatcher, spawnSim, tempDir, type Child, type SimProcess } from './procs';

/**
 * Rate-limit behaviour measured the way Meta measures it: the simulator runs as its own process
 * (its sliding 1 s window counts requests by arrival time on its own event loop) and each
 * dispatcher replica is its own process with its own Kafka and Redis clients.
 *
 * Steady state: sends between `firstSent + RAMP_MS` and the last send. The ramp is excluded because
 * the first second holds the consumer-group join/first fetch of each lane and tsx/JIT warm-up of a
 * fresh process; the pacing itself is not measured there. The backlog is produced up front, so
 * every send in the window is paced (there is no idle tail to exclude).
 */
const RAMP_MS = 2_000;

let h: Harness | undefined;
const children: Child[] = [];
afterEach(async () => {
  for (const c of children.splice(0).reverse()) await c.stop(5_000);
  await h?.teardown();
  h = undefined;
});

function sentTimes(events: readonly SentEventV1[], sender: string): number[] {
  return events
    .filter((e) => e.outcome === 'sent' && e.senderPhoneNumberId === sender)
    .map((e) => Date.parse(e.occurredAt))
    .sort((a, b) => a - b);
}

/** Sends per second over [from, to]: (n − 1) / span of the sends inside the window. */
function rateIn(times: readonly number[], from: number, to: number): { rate: number; n: number; spanMs: number } {
  const t = times.filter((x) => x >= from && x <= to);
  if (t.length < 2) return { rate: 0, n: t.length, spanMs: 0 };
  const spanMs = t[t.length - 1]! - t[0]!;
  return { rate: ((t.length - 1) * 1000) / spanMs, n: t.length, spanMs };
}

async function setup(
  numbers: { id: string; mps: number }[],
  partitions = 3,
): Promise<{ h: Harness; sim: SimProcess; w: ReturnType<typeof world>; logDir: string }> {
  const harness = new Harness();
  h = harness;
  await harness.setup(partitions);
  const w = world(numbers);
  const logDir = tempDir('disp-rate');
  const sim = await spawnSim(w.scenario, logDir);
  children.push(sim);
  harness.simUrl = sim.url;
  return { h: harness, sim, w, logDir };
}

// What needs real processes and real time: Meta's rule (no 130429, the simulator never counts more than
// the limit in a sliding second) with the real event loops, sockets, broker and Redis in between, every job
// sent once, and a tier change taking effect. How close to the limit a number runs depends on the CPU the
// machine gives the dispatcher: 95-97 % idle, 38-75 % with a load average of 20-30 on this shared 2-core
// machine (2026-12-06), so no bar here is an absolute rate: the pacing arithmetic is unit-tested on a fake
// clock (test/unit/send-scheduler.test.ts) and the achieved rate is bench:dispatch's measure.

describe('rate limits against a simulator process (real Kafka, Redis)', () => {
  it('paces a number with zero 130429 and never more than its limit in any second', async () => {
    const MPS = 60;
    const { h, sim, w, logDir } = await setup([{ id: '1001', mps: MPS }]);
    children.push(await spawnDispatcher('dispatcher', h.env({ INBOUND_HEADROOM_FRACTION: '0.03' }), w.catalog, logDir));
    const jobs = Array.from({ length: MPS * 12 }, (_, i) => job({ to: recipient(i) }));
    await h.produce(jobs);
    await waitFor(() => jobs.every((j) => h.terminal(j.jobId).length > 0), { timeoutMs: 60_000, description: 'a terminal outcome for every job' });

    const stats = await sim.stats();
    const times = sentTimes(h.sent, '1001');
    const steady = rateIn(times, times[0]! + RAMP_MS, Infinity);
    const thr = h.sent.filter((e) => e.errorCode === 130429).map((e) => Date.parse(e.occurredAt) - times[0]!);
    console.log(
      `throughput: 130429 at ${thr.join(',')} ms; ${steady.rate.toFixed(2)} mps of ${MPS} over ${steady.spanMs} ms (${steady.n} sends); sim peak ${stats.phoneNumbers['1001']!.peakRequestsPerSecond}/s, rejected ${JSON.stringify(stats.rejectedByCode)}`,
    );
    expect(stats.rejectedByCode['130429'] ?? 0).toBe(0);
    expect(stats.phoneNumbers['1001']!.peakRequestsPerSecond).toBeLessThanOrEqual(MPS);
    expect(steady.spanMs).toBeGreaterThan(8_000);
    expect(jobs.every((j) => h.terminal(j.jobId)[0]!.outcome === 'sent')).toBe(true);
    expect(stats.duplicateSends.count).toBe(0);
  });

  it('follows a throughput upgrade and a downgrade arriving mid-run', async () => {
    const UPGRADED_MPS = 100;
    const { h, sim, w, logDir } = await setup([{ id: '1001', mps: 40 }]);
    const keys = createRedisKeys(h.redisPrefix);
    // A 130429 answered before the dispatcher learns of the downgrade rightly slows the number down for a
    // cool-down; a short one keeps the measured "after" phase about the new limit rather than the back-off.
    children.push(await spawnDispatcher('dispatcher', h.env({ INBOUND_HEADROOM_FRACTION: '0.03', THROTTLE_COOLDOWN_MS: '3000' }), w.catalog, logDir));
    // What Meta does first (the simulator's limit), then what the webhook service writes and announces.
    // Returns when Meta changed the limit (before the simulator was told) and when the webhook's write was announced.
    const setTier = async (mps: number, event: 'UPGRADE' | 'DOWNGRADE') => {
      const metaAt = Date.now();
      await sim.event({ type: 'phone_number_quality_update', phoneNumberId: '1001', event, throughputMps: mps });
      await h.redis.set(keys.phoneQuality('1001'), JSON.stringify({ quality: 'GREEN', event, throughputMps: mps, updatedAt: new Date().toISOString() }));
      await h.redis.publish(keys.accountChangesChannel(), '1001');
      return { metaAt, announcedAt: Date.now() };
    };
    const jobs = Array.from({ length: 1_600 }, (_, i) => job({ to: recipient(i) }));
    await h.produce(jobs);
    await waitFor(() => h.sent.filter((e) => e.outcome === 'sent').length > 40 * 6, { timeoutMs: 30_000, description: '6 s of sends at 40 mps' });
    const tUp = (await setTier(UPGRADED_MPS, 'UPGRADE')).announcedAt;
    await new Promise((r) => setTimeout(r, 8_000));
    const downgrade = await setTier(30, 'DOWNGRADE');
    const tDown = downgrade.announcedAt;
    await waitFor(() => jobs.every((j) => h.terminal(j.jobId).length > 0), { timeoutMs: 90_000, description: 'a terminal outcome for every job' });

    const stats = await sim.stats();
    const times = sentTimes(h.sent, '1001');
    const before = rateIn(times, times[0]! + RAMP_MS, tUp);
    // A tier change applies within about a second (pub/sub, then the next reservation); 1 s is excluded after each.
    const during = rateIn(times, tUp + 1_000, tDown);
    const after = rateIn(times, tDown + 1_000, Infinity);
    const throttled = h.sent.filter((e) => e.errorCode === 130429).map((e) => Date.parse(e.occurredAt));
    const perSecondFrom = (from: number, to: number) =>
      Array.from(
        { length: Math.ceil((to - from) / 1000) },
        (_, i) => times.filter((t) => t >= from + i * 1000 && t < Math.min(to, from + (i + 1) * 1000)).length,
      );
    console.log(
      `tiers: before ${before.rate.toFixed(1)}/40, during ${during.rate.toFixed(1)}/${UPGRADED_MPS}, after ${after.rate.toFixed(1)}/30; 130429 at +${throttled.map((t) => t - tDown).join(',')} ms from the downgrade; sends per second from the upgrade: ${perSecondFrom(tUp, tDown).join(' ')}`,
    );
    expect(before.rate).toBeLessThanOrEqual(40);
    // The upgrade took effect: seconds with more sends than the old limit allows (how many more is the CPU's say).
    expect(Math.max(...perSecondFrom(tUp + 1_000, tDown))).toBeGreaterThan(40);
    expect(during.rate).toBeLessThanOrEqual(UPGRADED_MPS);
    expect(after.rate).toBeLessThanOrEqual(30);
    expect(after.spanMs).toBeGreaterThan(5_000);
    // Meta lowers the limit before the webhook arrives: sends of that gap (from Meta's change until the
    // dispatcher has applied the announced tier) meet a full window and are refused and retried. None
    // outside that gap.
    expect(throttled.filter((t) => t < downgrade.metaAt || t > tDown + 2_000)).toEqual([]);
    expect(jobs.every((j) => h.terminal(j.jobId)[0]!.outcome === 'sent')).toBe(true);
    expect(stats.duplicateSends.count).toBe(0);
  });

  it("two dispatcher processes together stay within one number's limit", async () => {
    const MPS = 60;
    const { h, sim, w, logDir } = await setup([{ id: '1001', mps: MPS }], 4);
    // Two processes add cross-process jitter after the shared admission (either one's event loop can
    // delay its write), so they are run with 4 % headroom: paced at 57.6/s, guard cap 58 of 60.
    const env = h.env({ CONSUMER_GROUP: `shared-${h.prefix}`, INBOUND_HEADROOM_FRACTION: '0.04' });
    const [a, b] = await Promise.all([spawnDispatcher('dispatcher-a', env, w.catalog, logDir), spawnDispatcher('dispatcher-b', env, w.catalog, logDir)]);
    children.push(a, b);
    const jobs = Array.from({ length: MPS * 12 }, (_, i) => job({ to: recipient(i) }));
    await h.produce(jobs);
    await waitFor(() => jobs.every((j) => h.terminal(j.jobId).length > 0), { timeoutMs: 60_000, description: 'a terminal outcome for every job' });

    const stats = await sim.stats();
    const times = sentTimes(h.sent, '1001');
    const steady = rateIn(times, times[0]! + RAMP_MS, Infinity);
    const perReplica = await Promise.all([a, b].map((c) => sentCount(c.url)));
    const thr = h.sent.filter((e) => e.errorCode === 130429).map((e) => Date.parse(e.occurredAt) - times[0]!);
    console.log(
      `two replicas: 130429 at ${thr.join(',')} ms (${perReplica.join(' + ')} sends): ${steady.rate.toFixed(2)} mps of ${MPS}; sim peak ${stats.phoneNumbers['1001']!.peakRequestsPerSecond}/s, rejected ${JSON.stringify(stats.rejectedByCode)}`,
    );
    expect(stats.rejectedByCode['130429'] ?? 0).toBe(0);
    expect(stats.phoneNumbers['1001']!.peakRequestsPerSecond).toBeLessThanOrEqual(MPS);
    expect(stats.accepted).toBe(jobs.length);
    expect(stats.duplicateSends.count).toBe(0);
    // both replicas sent: the consumer group split the partitions and both shared the number
    expect(Math.min(...perReplica)).toBeGreaterThan(jobs.length * 0.1);
  });
});

/** Accepted sends of one dispatcher process, from its /metrics. */
async function sentCount(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const line of text.split('\n')) if (line.startsWith('wa_dispatch_sends_total{') && line.includes('outcome="sent"')) n += Number(line.split(' ').pop());
  return n;
}
