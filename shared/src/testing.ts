import { randomBytes } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Admin } from 'kafkajs';
import { z } from 'zod';
import { commonEnv, loadConfig } from './config';

/**
 * Helpers for integration tests of every workspace (`import { … } from '@wa/shared/testing'`).
 * The machine, broker and Redis are shared by parallel test runs, so every test owns its names.
 * Nothing here imports a test runner.
 */

const testEnvSchema = z.object({
  KAFKA_BROKERS: commonEnv.KAFKA_BROKERS,
  REDIS_URL: commonEnv.REDIS_URL,
});

/** Where the local services are: KAFKA_BROKERS (127.0.0.1:9092) and REDIS_URL (redis://127.0.0.1:6379). */
export function testInfra(env: Record<string, string | undefined> = process.env): { brokers: string[]; redisUrl: string } {
  const config = loadConfig(testEnvSchema, env);
  return { brokers: [...config.KAFKA_BROKERS], redisUrl: config.REDIS_URL };
}

/**
 * A name no other test run uses: `<prefix>-<base36 time>-<random hex>`, made of characters valid in
 * Kafka topic and group names and Redis keys.
 */
export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${randomBytes(4).toString('hex')}`;
}

/** A recipient-hash key for tests (RECIPIENT_HASH_SALT needs at least 32 bytes); never used outside tests. */
export const TEST_RECIPIENT_HASH_KEY = 'test-recipient-hash-key-0123456789abcdef';

export { waitFor, WaitForTimeoutError, type WaitForOptions } from './wait-for';

/**
 * Creates a fresh topic with a unique name (single replica, leaders elected before returning) and
 * returns its name. Pair with `deleteTopics` in `afterAll`.
 */
export async function createTestTopic(
  admin: Admin,
  prefix: string,
  options: { partitions?: number; configEntries?: { name: string; value: string }[] } = {},
): Promise<string> {
  const topic = uniqueName(prefix);
  await admin.createTopics({
    waitForLeaders: true,
    topics: [{ topic, numPartitions: options.partitions ?? 1, replicationFactor: 1, configEntries: options.configEntries ?? [] }],
  });
  return topic;
}

/** Deletes test topics, ignoring ones already gone; never throws (cleanup must not mask a failure). */
export async function deleteTopics(admin: Admin, topics: readonly string[]): Promise<void> {
  if (topics.length === 0) return;
  try {
    const existing = new Set(await admin.listTopics());
    const present = topics.filter((t) => existing.has(t));
    if (present.length > 0) await admin.deleteTopics({ topics: present, timeout: 10_000 });
  } catch {
    // The broker deletes leftovers with the data dir; a failed cleanup is not a test failure.
  }
}

/** Deletes every Redis key under a test's prefix (SCAN, never KEYS or FLUSHALL: the server is shared). */
export async function deleteKeysWithPrefix(redis: Redis, prefix: string): Promise<void> {
  if (prefix.length === 0) throw new Error('refusing to delete keys without a prefix');
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) await redis.del(...keys);
  } while (cursor !== '0');
}

/** Listens on an ephemeral port of 127.0.0.1 and returns the origin to call (`http://127.0.0.1:PORT`). */
export async function listenLocal(app: { listen(options: { port: number; host: string }): Promise<string> }): Promise<string> {
  return new URL(await app.listen({ port: 0, host: '127.0.0.1' })).origin;
}
