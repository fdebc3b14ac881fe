import net from 'node:net';
import type { Admin, Consumer, Kafka } from 'kafkajs';
import { decodeRawRecord, type RawDelivery } from '@wa/shared/contracts/webhook-raw';
import { createKafka, ensureTopics } from '@wa/shared/kafka';
import { createLogger } from '@wa/shared/logger';
import { createRedis, type Redis } from '@wa/shared/redis';
import { deleteKeysWithPrefix, deleteTopics, testInfra, uniqueName } from '@wa/shared/testing';
import { topics } from '@wa/shared/topics';
import { loadWebhookConfig, type WebhookConfig } from '../../src/config';
import { webhookTopics } from '../../src/service';

export const SECRET = 'test-app-secret-current';
export const OLD_SECRET = 'test-app-secret-previous';
export const VERIFY_TOKEN = 'verify-me-please';

export interface Harness {
  prefix: string;
  redisPrefix: string;
  names: ReturnType<typeof webhookTopics>;
  kafka: Kafka;
  admin: Admin;
  redis: Redis;
  config(env?: Record<string, string>): WebhookConfig;
  collect(topic: string): Promise<Collector>;
  cleanup(): Promise<void>;
}

export interface Collector {
  values: Buffer[];
  json<T = Record<string, unknown>>(): T[];
  /** The webhook deliveries of the raw topic's records (either format). */
  deliveries(): RawDelivery[];
  stop(): Promise<void>;
}

/** Per-file isolation: a random topic prefix, Redis key prefix and consumer groups. */
export async function createHarness(): Promise<Harness> {
  const infra = testInfra();
  const prefix = `${uniqueName('wh')}.`;
  const redisPrefix = `${uniqueName('wh')}:`;
  const names = webhookTopics(prefix);
  const logger = createLogger({ service: 'webhook-test', level: 'error' });
  const kafka = createKafka({ brokers: infra.brokers, clientId: 'webhook-test', logger });
  const admin = kafka.admin();
  await admin.connect();
  await ensureTopics(admin, [topics.webhooksRaw, topics.eventsStatus, topics.eventsInbound, topics.eventsAccount, topics.notificationsDlq], {
    partitions: 2,
    retentionMs: 3_600_000,
    prefix,
  });
  const redis = createRedis(infra.redisUrl);
  await redis.connect();
  const consumers: Consumer[] = [];

  return {
    prefix,
    redisPrefix,
    names,
    kafka,
    admin,
    redis,
    config(env = {}) {
      return loadWebhookConfig({
        KAFKA_BROKERS: infra.brokers.join(','),
        REDIS_URL: infra.redisUrl,
        TOPIC_PREFIX: prefix,
        REDIS_KEY_PREFIX: redisPrefix,
        LOG_LEVEL: 'error',
        HTTP_PORT: '0',
        HTTP_HOST: '127.0.0.1',
        WEBHOOK_APP_SECRETS: `current=${SECRET}`,
        WEBHOOK_VERIFY_TOKEN: VERIFY_TOKEN,
        NORMALISER_GROUP_ID: uniqueName('wh-normaliser'),
        WEBHOOK_KAFKA_CONNECT_RETRY_MS: '200',
        SHUTDOWN_TIMEOUT_MS: '10000',
        ...env,
      });
    },
    async collect(topic) {
      const consumer = kafka.consumer({ groupId: uniqueName('wh-collector'), allowAutoTopicCreation: false, maxWaitTimeInMs: 100 });
      consumers.push(consumer);
      const values: Buffer[] = [];
      await consumer.connect();
      await consumer.subscribe({ topic, fromBeginning: true });
      await consumer.run({
        eachMessage: async ({ message }) => {
          if (message.value !== null) values.push(message.value);
        },
      });
      return {
        values,
        json: <T>() => values.map((v) => JSON.parse(v.toString('utf8')) as T),
        deliveries: () =>
          values.flatMap((v) => {
            const d = decodeRawRecord(v);
            if (!d.ok) throw new Error(d.detail);
            return d.deliveries;
          }),
        stop: () => consumer.disconnect(),
      };
    },
    async cleanup() {
      await Promise.all(consumers.map((c) => c.disconnect().catch(() => undefined)));
      await deleteTopics(admin, Object.values(names));
      await admin.disconnect();
      await deleteKeysWithPrefix(redis, redisPrefix);
      await redis.quit();
    },
  };
}

/** A TCP port nothing listens on (bound then released), to stand in for an unreachable broker. */
export async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

export async function post(url: string, req: { body: Buffer | string; headers: Record<string, string> }): Promise<{ status: number; text: string }> {
  const res = await fetch(`${url}/webhook`, { method: 'POST', body: req.body, headers: req.headers });
  return { status: res.status, text: await res.text() };
}
