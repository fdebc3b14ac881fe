import { describe, expect, it } from 'vitest';
import { consumerGroupId } from '@wa/shared/kafka-consumer-runner';
import { waitFor } from '@wa/shared/testing';
import { topicName, topics } from '@wa/shared/topics';
import { Harness, job, recipient, world } from './harness';
import { inProcessDispatchers } from './in-process';

let h: Harness | undefined;
const dispatchers = inProcessDispatchers(() => h);

const SLOW = { id: '1201', mps: 20 };
const FAST = { id: '1202', mps: 200 };
const SLOW_JOBS = 5_000; // more than one fetch (2 MB per partition) of ~450-byte records
const FAST_JOBS = 400;

describe('dispatcher look-ahead past a slow number (real Kafka, Redis, simulator)', () => {
  it("sends a fast number's jobs queued behind a slow number's backlog in the same partition, commits only watermarks, and resumes from them without a duplicate send", async () => {
    h = new Harness();
    await h.setup(1);
    const w = world([SLOW, FAST], { messagingLimit: 100_000 });
    await h.startSim(w.scenario);
    // One consumer group for both dispatchers: the second is the first one's successor.
    const group = { CONSUMER_GROUP: h.env().CONSUMER_GROUP! };
    const start = () => dispatchers.start(h!, w.catalog, group);

    // One partition, in this order: offsets 0..4999 are the slow number's, 5000..5399 the fast one's.
    const slow = Array.from({ length: SLOW_JOBS }, (_, i) => job({ to: recipient(i), sender: { phoneNumberId: SLOW.id } }));
    const fast = Array.from({ length: FAST_JOBS }, (_, i) => job({ to: recipient(100_000 + i), sender: { phoneNumberId: FAST.id } }));
    await h.produce([...slow, ...fast]);
    const sentIds = () => new Set(h!.sent.filter((e) => e.outcome === 'sent').map((e) => e.jobId));

    const first = await start();
    const t0 = Date.now();
    // Batch by batch, the fast jobs would wait for the first fetch's ~4,500 slow jobs: 225 s at 20 msg/s.
    await waitFor(() => fast.every((j) => sentIds().has(j.jobId)), {
      timeoutMs: 30_000,
      description: () => `all ${FAST_JOBS} fast-number jobs sent (${fast.filter((j) => sentIds().has(j.jobId)).length} so far)`,
    });
    const fastDoneS = (Date.now() - t0) / 1000;
    const slowSentThen = slow.filter((j) => sentIds().has(j.jobId)).length;
    console.log(`fast number done after ${fastDoneS.toFixed(1)} s; slow number had sent ${slowSentThen} of ${SLOW_JOBS}`);
    expect(slowSentThen).toBeLessThan(SLOW_JOBS / 4);

    // Shutdown with ~4,800 slow jobs still queued: the queued ones give up, the ones past the room finish.
    const tClose = Date.now();
    expect(await first.close()).toBe(true);
    const closeS = (Date.now() - tClose) / 1000;
    console.log(`close took ${closeS.toFixed(1)} s`);
    expect(closeS).toBeLessThan(10);

    // The committed offset is a watermark: every job below it has its outcome; it stays below the
    // fast jobs (done, but behind the slow backlog) and above nothing that is not done.
    const admin = h.kafka.admin();
    await admin.connect();
    const [committed] = await admin.fetchOffsets({
      groupId: consumerGroupId(`${group.CONSUMER_GROUP}.utility`, { TOPIC_PREFIX: h.prefix }),
      topics: [topicName(topics.dispatchJobs.utility, h.prefix)],
    });
    await admin.disconnect();
    const watermark = Number(committed!.partitions[0]!.offset);
    console.log(`committed watermark ${watermark}`);
    expect(watermark).toBeGreaterThan(0);
    expect(watermark).toBeLessThan(SLOW_JOBS);
    // Done means an outcome acknowledged by Kafka: sent, or a retry scheduled (e.g. after a 130429).
    // The collector reads them a little later than the dispatcher produced them.
    const withOutcome = () => new Set(h!.sent.map((e) => e.jobId));
    const missingBelowWatermark = () => {
      const seen = withOutcome();
      return slow.slice(0, watermark).filter((j) => !seen.has(j.jobId)).length;
    };
    await waitFor(() => missingBelowWatermark() === 0, {
      timeoutMs: 15_000,
      description: () => `an outcome for every job below the watermark (${missingBelowWatermark()} missing)`,
    });
    expect(withOutcome().has(slow[watermark]!.jobId)).toBe(false);
    const done = sentIds();

    // A new owner of the group starts at the watermark: slow jobs go on, the fast ones are only re-announced.
    const slowBefore = slow.filter((j) => done.has(j.jobId)).length;
    await start();
    await waitFor(() => slow.filter((j) => sentIds().has(j.jobId)).length >= slowBefore + 40, {
      timeoutMs: 30_000,
      description: 'the restarted dispatcher sends the slow backlog on',
    });
    await waitFor(() => h!.sent.filter((e) => e.jobId === fast[0]!.jobId).length >= 2, {
      timeoutMs: 30_000,
      description: 'the redelivered fast jobs are re-announced from the ledger',
    });
    const stats = h.simStats();
    expect(stats.duplicateSends.count).toBe(0);
    for (const [, ids] of h.terminalByJob()) expect(ids.size).toBe(1);
    expect(stats.phoneNumbers[FAST.id]!.accepted).toBe(FAST_JOBS);
  }, 120_000);
});
