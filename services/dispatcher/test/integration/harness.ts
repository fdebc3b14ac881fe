import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { createSimulator, type Simulator, type ScenarioInput } from '@wa/cloud-api-sim';
import type { Catalog } from '@wa/shared/catalog';
import type { DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import type { SentEventV1 } from '@wa/shared/contracts/sent-event';
import type { DeadLetterV1 } from '@wa/shared/contracts/dead-letter';
import { dispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import { encodeJson } from '@wa/shared/decode';
import { createKafka, createProducer, ensureTopics } from '@wa/shared/kafka';
import { createLogger } from '@wa/shared/logger';
import { createRedis, type Redis } from '@wa/shared/redis';
import { testInfra, uniqueName, TEST_RECIPIENT_HASH_KEY } from '@wa/shared/testing';
import { ALL_TOPICS, topicName, topics } from '@wa/shared/topics';

export const WABA = '102290129340398';
export const TOKEN = 'sim-access-token-1';
export const PORTFOLIO = 'biz-1';

export interface NumberSpec {
  id: string;
  mps: number;
}

/** A simulator scenario and the matching dispatcher catalogue for one business with the given numbers. */
export function world(numbers: NumberSpec[], options: { messagingLimit?: number; scenario?: Partial<ScenarioInput> } = {}) {
  const limit = options.messagingLimit ?? 10_000;
  const templates = [
    { name: 'order_update', language: 'en_US', category: 'utility' as const, bodyParams: 1 },
    { name: 'promo_offer', language: 'en_US', category: 'marketing' as const, bodyParams: 1 },
    { name: 'otp_code', language: 'en_US', category: 'authentication' as const, bodyParams: 1 },
  ];
  const scenario: ScenarioInput = {
    errorDelivery: 'sync',
    population: { notOnWhatsAppFraction: 0, optedOutMarketingFraction: 0, experimentFraction: 0, replyFraction: 0, stopFraction: 0, readFraction: 0 },
    ...options.scenario,
    businesses: [
      {
        id: PORTFOLIO,
        messagingLimit: limit as 250,
        wabas: [
          {
            id: WABA,
            accessTokens: [TOKEN],
            phoneNumbers: numbers.map((n, i) => ({ id: n.id, displayPhoneNumber: `1555078${String(3880 + i)}`, throughputMps: n.mps })),
            templates: templates.map((t) => ({ name: t.name, language: t.language, category: t.category, params: { body: t.bodyParams } })),
          },
        ],
      },
    ],
  };
  const catalog: Catalog = {
    businesses: [{ wabaId: WABA, portfolioId: PORTFOLIO, messagingLimit: limit }],
    phoneNumbers: numbers.map((n, i) => ({ id: n.id, wabaId: WABA, displayNumber: `1555078${String(3880 + i)}`, throughputMps: n.mps })),
    pools: { main: numbers.map((n) => n.id) },
    templates: templates.map((t) => ({ wabaId: WABA, ...t, headerParams: 0, buttonParams: 0, status: 'APPROVED' as const, coalescible: false })),
  };
  return { scenario, catalog };
}

export function recipient(i: number): string {
  return String(4915100000000 + i);
}

let seq = 0;
export function job(over: Partial<DispatchJobV1> & { to: string; sender?: DispatchJobV1['sender'] }): DispatchJobV1 {
  const id = over.jobId ?? `job-${Date.now().toString(36)}-${seq++}`;
  return dispatchJobV1.parse({
    v: 1,
    jobId: id,
    requestKey: `req-${id}`,
    sender: over.sender ?? { pool: 'main' },
    lane: 'utility',
    category: 'utility',
    message: { type: 'template', template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1'] } },
    requestedAt: new Date().toISOString(),
    attempt: 0,
    ...over,
  });
}

/** Everything one test file needs: unique topic prefix and Redis prefix, Kafka clients, the simulator, outcome collection. */
export class Harness {
  readonly prefix = `${uniqueName('disp')}.`;
  readonly redisPrefix = `${uniqueName('disp')}:`;
  readonly infra = testInfra();
  readonly logger = createLogger({ service: 'dispatcher-test', level: 'warn' });
  readonly kafka: Kafka = createKafka({ brokers: this.infra.brokers, clientId: 'dispatcher-test', logger: this.logger });
  readonly admin: Admin = this.kafka.admin();
  readonly producer: Producer = createProducer(this.kafka);
  readonly redis: Redis = createRedis(this.infra.redisUrl);
  sim: Simulator | undefined;
  simUrl = '';
  readonly sent: SentEventV1[] = [];
  readonly dlq: DeadLetterV1[] = [];
  private collector: Consumer | undefined;
  private readonly seenRecords = new Set<string>();
  /** Records the collector received more than once (its own redelivery, not the dispatcher's). */
  collectorRedeliveries = 0;

  /**
   * Topics, clients and the outcome collector. `collect: 'later'` leaves the collector off until
   * `startCollecting()`: a benchmark measuring the dispatcher on this 2-core machine reads the outcomes
   * after the run instead of decoding them while the dispatcher sends (wait with `sentRecords()`).
   */
  async setup(partitions = 3, options: { collect?: 'live' | 'later' } = {}): Promise<void> {
    await this.admin.connect();
    const defs = ALL_TOPICS.filter((t) => t.name.startsWith('wa.dispatch') || t.name === topics.messagesSent.name);
    await ensureTopics(this.admin, defs, { partitions, retentionMs: 3_600_000, prefix: this.prefix });
    await this.producer.connect();
    await this.redis.connect();
    if ((options.collect ?? 'live') === 'live') await this.startCollecting();
  }

  /** Consumes `wa.messages.sent` and the DLQ from the beginning into `sent` and `dlq`. */
  async startCollecting(): Promise<void> {
    if (this.collector) return;
    this.collector = this.kafka.consumer({ groupId: uniqueName('disp-collector'), maxWaitTimeInMs: 100 });
    await this.collector.connect();
    await this.collector.subscribe({ topics: [topicName(topics.messagesSent, this.prefix), topicName(topics.dispatchDlq, this.prefix)], fromBeginning: true });
    const sentTopic = topicName(topics.messagesSent, this.prefix);
    await this.collector.run({
      eachMessage: async ({ topic, partition, message }) => {
        // The collector is at-least-once too (a rejoin after a stall re-reads from its last commit):
        // count each record once, so what remains duplicated was produced twice.
        const at = `${topic}:${partition}:${message.offset}`;
        if (this.seenRecords.has(at)) {
          this.collectorRedeliveries++;
          return;
        }
        this.seenRecords.add(at);
        const value = JSON.parse(message.value!.toString());
        if (topic === sentTopic) this.sent.push(value);
        else this.dlq.push(value);
      },
    });
  }

  /** Records on `wa.messages.sent` so far (its partitions' end offsets): one metadata request, nothing decoded. */
  async sentRecords(): Promise<number> {
    const offsets = await this.admin.fetchTopicOffsets(topicName(topics.messagesSent, this.prefix));
    return offsets.reduce((sum, p) => sum + Number(p.high) - Number(p.low), 0);
  }

  async startSim(scenario: ScenarioInput): Promise<Simulator> {
    if (this.sim) await this.sim.close();
    this.sim = createSimulator({ scenario });
    this.simUrl = await this.sim.start(0);
    return this.sim;
  }

  env(over: Record<string, string> = {}): Record<string, string> {
    return {
      KAFKA_BROKERS: this.infra.brokers.join(','),
      REDIS_URL: this.infra.redisUrl,
      TOPIC_PREFIX: this.prefix,
      REDIS_KEY_PREFIX: this.redisPrefix,
      LOG_LEVEL: 'warn',
      CATALOG_PATH: '/nonexistent-catalog-overridden-in-tests.json',
      WA_ACCESS_TOKENS: `${WABA}=${TOKEN}`,
      GRAPH_API_BASE_URL: this.simUrl,
      ADMIN_TOKEN: 'admin-secret-token',
      RECIPIENT_HASH_SALT: TEST_RECIPIENT_HASH_KEY,
      CONSUMER_GROUP: uniqueName('disp-group'),
      RETRY_BASE_MS: '200',
      RETRY_MAX_DELAY_MS: '2000',
      INBOUND_HEADROOM_FRACTION: '0.03',
      ...over,
    };
  }

  async produce(jobs: DispatchJobV1[]): Promise<void> {
    const byLane = new Map<string, { key: string; value: Buffer }[]>();
    for (const j of jobs) {
      const t = topicName(topics.dispatchJobs[j.lane], this.prefix);
      let list = byLane.get(t);
      if (!list) byLane.set(t, (list = []));
      list.push({ key: j.to, value: encodeJson(dispatchJobV1, j) });
    }
    for (const [topic, messages] of byLane) {
      for (let i = 0; i < messages.length; i += 2_000) await this.producer.send({ topic, messages: messages.slice(i, i + 2_000), acks: -1 });
    }
  }

  terminal(jobId: string): SentEventV1[] {
    return this.sent.filter((e) => e.jobId === jobId && ['sent', 'failed', 'rejected', 'expired', 'cancelled', 'unknown'].includes(e.outcome));
  }

  /** Distinct terminal outcomes per job (events are deduplicated downstream by eventId). */
  terminalByJob(): Map<string, Set<string>> {
    const m = new Map<string, Set<string>>();
    for (const e of this.sent) {
      if (!['sent', 'failed', 'rejected', 'expired', 'cancelled', 'unknown'].includes(e.outcome)) continue;
      let s = m.get(e.jobId);
      if (!s) m.set(e.jobId, (s = new Set()));
      s.add(e.eventId);
    }
    return m;
  }

  simStats(): SimStats {
    return this.sim!.stats() as unknown as SimStats;
  }

  async teardown(): Promise<void> {
    await this.collector?.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    const names = (await this.admin.listTopics()).filter((t) => t.startsWith(this.prefix));
    if (names.length) await this.admin.deleteTopics({ topics: names }).catch(() => undefined);
    await this.admin.disconnect().catch(() => undefined);
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await this.redis.del(...keys);
    } while (cursor !== '0');
    await this.redis.quit().catch(() => undefined);
    await this.sim?.close();
  }
}

export interface SimStats {
  requests: number;
  accepted: number;
  rejectedByCode: Record<string, number>;
  phoneNumbers: Record<
    string,
    {
      throughputMps: number;
      requests: number;
      accepted: number;
      rejectedByCode: Record<string, number>;
      peakRequestsPerSecond: number;
      peakAcceptedPerSecond: number;
    }
  >;
  duplicateSends: { count: number; items: unknown[] };
  businesses: Record<string, { messagingLimit: number | string; uniqueRecipientsInWindow: number }>;
}
