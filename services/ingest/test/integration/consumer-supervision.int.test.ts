import type { Admin, Kafka, Producer } from 'kafkajs';
import { Registry } from 'prom-client';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createKafka, createProducer } from '@wa/shared/kafka';
import { systemClock, type Clock } from '@wa/shared/clock';
import { createLogger } from '@wa/shared/logger';
import { createTestTopic, deleteTopics, testInfra, uniqueName, waitFor } from '@wa/shared/testing';
import { createRequestConsumer, type RequestConsumer } from '../../src/adapters/kafka-request-consumer';
import { createIngestMetrics } from '../../src/metrics';
import type { Envelope, Pipeline } from '../../src/pipeline';

/**
 * Regression: kafkajs ends its own restart loop when a crash's original cause is not retriable
 * (CRASH with `restart: false`), and the ingest consumer used to stay dead after that, silently,
 * with readiness at 200. The supervisor must replace it, and must replace a consumer that went
 * silent. Real broker, real kafkajs; the pipeline is a stand-in that fails on demand.
 */
describe('request consumer supervision (real broker)', () => {
  const infra = testInfra();
  const logger = createLogger({ service: 'ingest-supervision-test', level: 'silent' });
  const kafka: Kafka = createKafka({ brokers: infra.brokers, clientId: 'ingest-supervision-test', logger });
  const admin: Admin = kafka.admin();
  const producer: Producer = createProducer(kafka);
  const consumers: RequestConsumer[] = [];
  const topics: string[] = [];
  let topic = '';

  beforeAll(async () => {
    await admin.connect();
    await producer.connect();
  });
  beforeEach(async () => {
    topic = await createTestTopic(admin, 'ingest-sup', { partitions: 1 });
    topics.push(topic);
  });
  afterAll(async () => {
    for (const c of consumers) await c.stop().catch(() => undefined);
    await producer.disconnect();
    await deleteTopics(admin, topics);
    await admin.disconnect();
  });

  function start(pipeline: Pick<Pipeline, 'processEnvelopes'>, clock: Clock = systemClock) {
    const metrics = createIngestMetrics(new Registry());
    const fatal: unknown[] = [];
    const groupId = uniqueName('ingest-sup');
    const rc = createRequestConsumer({
      kafka,
      groupId,
      maxBytes: 1_048_576,
      pipeline: pipeline as Pipeline,
      topic,
      metrics,
      logger,
      clock,
      partitionsConsumedConcurrently: 1,
      stallMs: 30_000,
      restartBaseMs: 100,
      restartMaxMs: 1_000,
      onFatal: (err) => fatal.push(err),
    });
    consumers.push(rc);
    return { rc, metrics, fatal };
  }

  /** Commits every envelope it is given; `failNext` makes the next call throw that error first. */
  function recordingPipeline() {
    const seen: string[] = [];
    let failNext: Error | undefined;
    return {
      seen,
      fail(err: Error) {
        failNext = err;
      },
      pipeline: {
        async processEnvelopes(envs: readonly Envelope[], control: { committed(i: number): Promise<void> }) {
          // Only a batch that carries records fails: kafkajs may hand over empty batches too.
          if (failNext && envs.length > 0) {
            const err = failNext;
            failNext = undefined;
            throw err;
          }
          for (const e of envs) seen.push(e.value!.toString());
          if (envs.length > 0) await control.committed(envs.length - 1);
          return envs.length;
        },
      },
    };
  }

  it('replaces a consumer kafkajs gave up on (CRASH restart=false); readiness is off until the new one consumes', async () => {
    const p = recordingPipeline();
    const { rc, metrics, fatal } = start(p.pipeline);
    await rc.start();
    await rc.check();
    // Not retriable in kafkajs' eyes (retriable: false) and not a programmer error: kafkajs crashes
    // the consumer with restart=false.
    p.fail(Object.assign(new Error('coordinator said no'), { retriable: false }));
    // Sample readiness continuously: the replacement can be quick, a 25 ms poll could miss it.
    const readinessErrors: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        await rc.check().catch((err: Error) => readinessErrors.push(err.message));
        await new Promise((r) => setTimeout(r, 2));
      }
    })();
    await producer.send({ topic, messages: [{ value: 'first' }] });

    await waitFor(async () => (await metrics.consumer.crashes.get()).values.length > 0, { timeoutMs: 15_000, description: 'crash noticed' });
    await waitFor(() => p.seen.includes('first'), { timeoutMs: 30_000, description: 'record processed by the replacement consumer' });
    sampling = false;
    await sampler;
    expect(readinessErrors.length, 'readiness was off while the consumer was replaced').toBeGreaterThan(0);
    expect(readinessErrors[0]).toMatch(/consumer ingest-sup/);
    await producer.send({ topic, messages: [{ value: 'second' }] });
    await waitFor(() => p.seen.includes('second'), { timeoutMs: 15_000, description: 'later record processed' });
    await rc.check();
    expect(await metrics.consumer.crashes.get()).toMatchObject({ values: [{ labels: { restart: 'false' }, value: 1 }] });
    expect((await metrics.consumer.replacements.get()).values).toMatchObject([{ labels: { reason: 'crash' }, value: 1 }]);
    expect(fatal).toEqual([]);
  });

  it('a programmer error in the batch handler goes to onFatal (the process exits 1) instead of a retry loop', async () => {
    const p = recordingPipeline();
    const { rc, fatal } = start(p.pipeline);
    await rc.start();
    p.fail(new TypeError("Cannot read properties of undefined (reading 'to')"));
    await producer.send({ topic, messages: [{ value: 'third' }] });
    await waitFor(() => fatal.length > 0, { timeoutMs: 15_000, description: 'onFatal called' });
    expect((fatal[0] as Error).name).toBe('TypeError');
  });

  it('replaces a consumer that went silent (watchdog), then consumes again', async () => {
    const p = recordingPipeline();
    let offsetMs = 0;
    const { rc, metrics } = start(p.pipeline, { now: () => Date.now() + offsetMs });
    await rc.start();
    await producer.send({ topic, messages: [{ value: 'fourth' }] });
    await waitFor(() => p.seen.includes('fourth'), { timeoutMs: 15_000, description: 'consuming' });
    // Jump the clock past the stall bound: to the watchdog the consumer has been silent that long.
    offsetMs = 31_000;
    await expect(rc.check()).rejects.toThrow(/silent/);
    rc.checkStall();
    await waitFor(async () => (await metrics.consumer.replacements.get()).values.some((v) => v.labels.reason === 'stalled' && v.value === 1), {
      description: 'replacement counted',
    });
    await producer.send({ topic, messages: [{ value: 'fifth' }] });
    await waitFor(() => p.seen.includes('fifth'), { timeoutMs: 30_000, description: 'replacement consumes' });
    await waitFor(() => rc.check().then(() => true), { timeoutMs: 10_000, description: 'ready again' });
  });
});
