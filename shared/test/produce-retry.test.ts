import type { Producer } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { isRetriableProduceError, retryWholeProduce } from '../src/kafka';

/** A producer whose sendBatch fails with the given errors in turn, then succeeds; it records every call's records. */
function flakyProducer(errors: Error[]) {
  const calls: unknown[] = [];
  const producer = {
    connect: async () => undefined,
    send: async (args: unknown) => {
      calls.push(args);
      const err = errors.shift();
      if (err) throw err;
      return [];
    },
    sendBatch: async (args: unknown) => {
      calls.push(args);
      const err = errors.shift();
      if (err) throw err;
      return [{ topicName: 't', partition: 0, errorCode: 0 }];
    },
  } as unknown as Producer;
  return { producer, calls };
}

const retriable = () => Object.assign(new Error('There is no leader for this topic-partition'), { name: 'KafkaJSNumberOfRetriesExceeded' });
const connection = () => Object.assign(new Error('Connection error: connect ECONNREFUSED'), { name: 'KafkaJSConnectionError', retriable: true });
const tooLarge = () =>
  Object.assign(new Error('The request included a message larger than the max message size'), { name: 'KafkaJSProtocolError', retriable: false });
const policy = { retries: 3, baseMs: 1, maxMs: 2 };
const noSleep = async () => undefined;

describe('a produce is retried whole (kafkajs issue #1303: its own retry can drop records of a moved partition)', () => {
  it('sends the same whole batch again after a retriable failure, and resolves with the last answer', async () => {
    const { producer, calls } = flakyProducer([retriable(), connection()]);
    const batch = {
      topicMessages: [
        { topic: 'a', messages: [{ value: '1' }] },
        { topic: 'b', messages: [{ value: '2' }] },
      ],
    };
    const result = await retryWholeProduce(producer, policy, noSleep).sendBatch(batch);
    expect(calls).toEqual([batch, batch, batch]);
    expect(result).toEqual([{ topicName: 't', partition: 0, errorCode: 0 }]);
  });

  it('does not retry an error that is final for the records', async () => {
    const { producer, calls } = flakyProducer([tooLarge()]);
    await expect(retryWholeProduce(producer, policy, noSleep).send({ topic: 'a', messages: [{ value: 'x' }] })).rejects.toThrow(/larger than the max/);
    expect(calls).toHaveLength(1);
  });

  it('gives up after the configured retries with the last error', async () => {
    const { producer, calls } = flakyProducer([connection(), connection(), connection(), connection(), connection()]);
    await expect(retryWholeProduce(producer, policy, noSleep).send({ topic: 'a', messages: [] })).rejects.toThrow(/ECONNREFUSED/);
    expect(calls).toHaveLength(4);
  });

  it('keeps the rest of the producer (connect, events) as it is', async () => {
    const { producer } = flakyProducer([]);
    const wrapped = retryWholeProduce(producer, policy, noSleep);
    await expect(wrapped.connect()).resolves.toBeUndefined();
  });

  it('classifies kafkajs errors', () => {
    expect(isRetriableProduceError(retriable())).toBe(true);
    expect(isRetriableProduceError(connection())).toBe(true);
    expect(isRetriableProduceError(tooLarge())).toBe(false);
    expect(isRetriableProduceError(undefined)).toBe(false);
  });
});
