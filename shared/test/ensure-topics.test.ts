import { describe, expect, it } from 'vitest';
import { defaultMinInsyncReplicas, ensureTopics, replicationFor, type TopicAdmin } from '../src/kafka';

/** kafkajs' error for a topic the broker does not know yet (retriable). */
function unknownTopic(): Error {
  return Object.assign(new Error('This server does not host this topic-partition'), { type: 'UNKNOWN_TOPIC_OR_PARTITION', retriable: true });
}

type Metadata = Awaited<ReturnType<TopicAdmin['fetchTopicMetadata']>>;

/** An admin whose createTopics fails with `createError` and whose metadata answers come from `metadata` in turn. */
function fakeAdmin(createError: Error | undefined, metadata: (() => Metadata)[]) {
  const calls = { create: 0, metadata: 0 };
  const admin: TopicAdmin = {
    listTopics: async () => ['existing'],
    createTopics: async () => {
      calls.create++;
      if (createError) throw createError;
      return true;
    },
    fetchTopicMetadata: async () => {
      const answer = metadata[Math.min(calls.metadata, metadata.length - 1)]!;
      calls.metadata++;
      return answer();
    },
  };
  return { admin, calls };
}

const withLeaders = (names: string[], leader = 0): Metadata => ({
  topics: names.map((name) => ({ name, partitions: [{ partitionId: 0, leader, replicas: [0], isr: [0], offlineReplicas: [], partitionErrorCode: 0 }] })),
});

const defs = [{ name: 'a' }, { name: 'existing' }];

describe('ensureTopics', () => {
  it('creates only the missing topics', async () => {
    const { admin, calls } = fakeAdmin(undefined, []);
    expect(await ensureTopics(admin, defs, { partitions: 1, retentionMs: 1_000 })).toEqual(['a']);
    expect(calls).toEqual({ create: 1, metadata: 0 });
  });

  it('waits for the leaders itself when kafkajs gives up on a retriable error after the create', async () => {
    const { admin, calls } = fakeAdmin(unknownTopic(), [
      () => {
        throw unknownTopic();
      },
      () => withLeaders(['a'], -1),
      () => withLeaders(['a']),
    ]);
    expect(await ensureTopics(admin, defs, { partitions: 1, retentionMs: 1_000 })).toEqual(['a']);
    expect(calls).toEqual({ create: 1, metadata: 3 });
  });

  it('rethrows a non-retriable error at once', async () => {
    const invalid = Object.assign(new Error('Invalid partitions'), { type: 'INVALID_PARTITIONS', retriable: false });
    const { admin, calls } = fakeAdmin(invalid, [() => withLeaders(['a'])]);
    await expect(ensureTopics(admin, defs, { partitions: 1, retentionMs: 1_000 })).rejects.toBe(invalid);
    expect(calls.metadata).toBe(0);
  });

  it('names the topics when their leaders never come', async () => {
    const { admin } = fakeAdmin(unknownTopic(), [
      () => {
        throw unknownTopic();
      },
    ]);
    await expect(ensureTopics(admin, [{ name: 'a' }], { partitions: 1, retentionMs: 1_000, prefix: 'p.', leaderWaitMs: 250 })).rejects.toThrow(
      /topics p\.a have no partition leaders after 250 ms: This server does not host/,
    );
  });
});

describe('replication of created topics', () => {
  it('three copies with min.insync.replicas=2 on a three-broker cluster, one copy on a single broker', () => {
    expect(replicationFor(1)).toBe(1);
    expect(replicationFor(2)).toBe(1);
    expect(replicationFor(3)).toBe(3);
    expect(replicationFor(5)).toBe(3);
    expect(replicationFor(3, 2)).toBe(2);
    expect(defaultMinInsyncReplicas(3)).toBe(2);
    expect(defaultMinInsyncReplicas(1)).toBe(1);
  });

  it('passes the replication factor and min.insync.replicas to the broker', async () => {
    let request: Parameters<TopicAdmin['createTopics']>[0] | undefined;
    const admin: TopicAdmin = {
      listTopics: async () => [],
      createTopics: async (r) => {
        request = r;
        return true;
      },
      fetchTopicMetadata: async () => ({ topics: [] }),
    };
    await ensureTopics(admin, [{ name: 'a', config: { 'cleanup.policy': 'compact' } }], { partitions: 2, retentionMs: 1_000, replicationFactor: 3 });
    const topic = request!.topics[0]!;
    expect(topic.replicationFactor).toBe(3);
    expect(topic.configEntries).toEqual(
      expect.arrayContaining([
        { name: 'min.insync.replicas', value: '2' },
        { name: 'cleanup.policy', value: 'compact' },
      ]),
    );
  });
});
