import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Admin, Consumer, Kafka, Producer } from 'kafkajs';
import { createKafka, createProducer } from '@wa/shared/kafka';
import { createLogger } from '@wa/shared/logger';
import { createRedis, type Redis } from '@wa/shared/redis';
import { deleteTopics, testInfra, uniqueName } from '@wa/shared/testing';
import { topicName, topics } from '@wa/shared/topics';
import type { DeadLetterV1 } from '@wa/shared/contracts/dead-letter';
import type { DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import { loadIngestConfig, type IngestConfig } from '../../src/config';
import { createIngestService, type IngestOverrides, type IngestService } from '../../src/service';

export const CATALOG_PATH = resolve(import.meta.dirname, '../../../../config/catalog.example.json');
export const NUMBER_ID = '106540352242922';

/** One isolated world per test file: topic prefix, Redis prefix, audience dir, consumer group. */
export class Harness {
  readonly prefix = `${uniqueName('ing')}.`;
  readonly redisPrefix = `${uniqueName('ing')}:`;
  readonly audienceRoot = mkdtempSync(join(tmpdir(), 'ingest-aud-'));
  readonly infra = testInfra();
  readonly logger = createLogger({ service: 'ingest-test', level: 'warn' });
  readonly kafka: Kafka = createKafka({ brokers: this.infra.brokers, clientId: 'ingest-test', logger: this.logger });
  readonly admin: Admin = this.kafka.admin();
  readonly producer: Producer = createProducer(this.kafka);
  readonly redis: Redis = createRedis(this.infra.redisUrl);
  readonly services: IngestService[] = [];
  readonly jobs: DispatchJobV1[] = [];
  readonly jobTopics: string[] = [];
  readonly dlq: DeadLetterV1[] = [];
  private collector?: Consumer;
  private readonly group = uniqueName('ing-group');

  topic(def: { name: string }): string {
    return topicName(def, this.prefix);
  }

  get requestTopic(): string {
    return this.topic(topics.notificationsRequested);
  }

  async setup(options: { partitions?: number } = {}): Promise<void> {
    await this.admin.connect();
    await this.producer.connect();
    await this.redis.connect();
    const names = [
      topics.notificationsRequested,
      topics.notificationsDlq,
      topics.dispatchJobs.auth,
      topics.dispatchJobs.utility,
      topics.dispatchJobs.marketing,
    ].map((d) => this.topic(d));
    await this.admin.createTopics({
      waitForLeaders: true,
      topics: names.map((topic) => ({
        topic,
        numPartitions: options.partitions ?? 2,
        replicationFactor: 1,
        // The bad-input corpus sends a 10 MB record on purpose.
        configEntries: [{ name: 'max.message.bytes', value: String(16 * 1_048_576) }],
      })),
    });
  }

  config(env: Record<string, string> = {}): IngestConfig {
    return loadIngestConfig({
      KAFKA_BROKERS: this.infra.brokers.join(','),
      REDIS_URL: this.infra.redisUrl,
      TOPIC_PREFIX: this.prefix,
      REDIS_KEY_PREFIX: this.redisPrefix,
      CONSUMER_GROUP: this.group,
      INGEST_API_TOKEN: 'test-token',
      CATALOG_PATH,
      AUDIENCE_ROOT: this.audienceRoot,
      LOG_LEVEL: 'warn',
      SCHEDULER_POLL_MS: '50',
      SHUTDOWN_TIMEOUT_MS: '15000',
      ...env,
    });
  }

  async startService(env: Record<string, string> = {}, overrides: IngestOverrides = {}): Promise<IngestService> {
    const service = createIngestService(this.config(env), { logger: this.logger, ...overrides });
    await service.start();
    this.services.push(service);
    return service;
  }

  /** Collects everything the service produces (dispatch jobs of all lanes and DLQ records). */
  async collect(): Promise<void> {
    this.collector = this.kafka.consumer({ groupId: uniqueName('ing-collect'), maxBytes: 20 * 1_048_576 });
    await this.collector.connect();
    const lanes = [topics.dispatchJobs.auth, topics.dispatchJobs.utility, topics.dispatchJobs.marketing].map((d) => this.topic(d));
    await this.collector.subscribe({ topics: [...lanes, this.topic(topics.notificationsDlq)], fromBeginning: true });
    await this.collector.run({
      eachBatch: async ({ batch }) => {
        for (const m of batch.messages) {
          const value = JSON.parse(m.value!.toString());
          if (batch.topic === this.topic(topics.notificationsDlq)) this.dlq.push(value);
          else {
            this.jobs.push(value);
            this.jobTopics.push(batch.topic);
          }
        }
      },
    });
  }

  async send(values: (Buffer | string | object)[], key?: string): Promise<void> {
    await this.producer.send({
      topic: this.requestTopic,
      acks: -1,
      messages: values.map((v) => ({ key: key ?? null, value: Buffer.isBuffer(v) ? v : typeof v === 'string' ? v : JSON.stringify(v) })),
    });
  }

  async teardown(): Promise<void> {
    for (const s of this.services) await s.close();
    await this.collector?.disconnect().catch(() => undefined);
    await this.producer.disconnect().catch(() => undefined);
    const names = (await this.admin.listTopics()).filter((t) => t.startsWith(this.prefix));
    await deleteTopics(this.admin, names);
    await this.admin.disconnect().catch(() => undefined);
    let cursor = '0';
    do {
      const [next, keys] = await this.redis.scan(cursor, 'MATCH', `${this.redisPrefix}*`, 'COUNT', 1000);
      cursor = next;
      if (keys.length > 0) await this.redis.del(...keys);
    } while (cursor !== '0');
    await this.redis.quit();
    rmSync(this.audienceRoot, { recursive: true, force: true });
  }
}

export function request(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    v: 1,
    idempotencyKey: uniqueName('req'),
    sender: { phoneNumberId: NUMBER_ID },
    to: '+4915112345678',
    template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1', 'shipped'] },
    ...overrides,
  };
}
