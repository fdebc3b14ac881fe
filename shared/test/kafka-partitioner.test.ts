import { randomBytes } from 'node:crypto';
import { Partitioners, type PartitionMetadata } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { javaCompatiblePartitioner } from '../src/kafka-partitioner';

const metadataOf = (n: number): PartitionMetadata[] =>
  Array.from({ length: n }, (_, partitionId) => ({ partitionId, leader: 1, replicas: [1], isr: [1], partitionErrorCode: 0, offlineReplicas: [] }));

describe('javaCompatiblePartitioner', () => {
  // Records keyed by recipient must keep landing where kafkajs' DefaultPartitioner (and the Java
  // client) put them: same key → same partition, whatever replaced the hash.
  it('puts every keyed record where kafkajs’ DefaultPartitioner puts it', () => {
    const ours = javaCompatiblePartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const keys: (string | Buffer)[] = ['', 'a', 'ab', 'abc', 'abcd', 'abcde', '4915120000000', 'ä€😀', 'k-1'];
    for (let i = 0; i < 5_000; i++) {
      keys.push(`${Math.floor(Math.random() * 1e15)}`);
      keys.push(randomBytes(i % 41));
      keys.push(randomBytes(1 + (i % 23)).toString('latin1'));
    }
    for (const partitions of [1, 3, 7, 12, 50]) {
      const partitionMetadata = metadataOf(partitions);
      for (const key of keys) {
        const args = { topic: 't', partitionMetadata, message: { key, value: 'v' } };
        expect(ours(args), `${JSON.stringify(key)} over ${partitions}`).toBe(theirs(args));
      }
    }
  });

  it('keeps an explicit partition and spreads keyless records over the partitions', () => {
    const ours = javaCompatiblePartitioner();
    const partitionMetadata = metadataOf(3);
    expect(ours({ topic: 't', partitionMetadata, message: { key: 'x', value: 'v', partition: 2 } })).toBe(2);
    const seen = new Set<number>();
    for (let i = 0; i < 30; i++) seen.add(ours({ topic: 't', partitionMetadata, message: { value: 'v' } }));
    expect(seen).toEqual(new Set([0, 1, 2]));
  });
});
