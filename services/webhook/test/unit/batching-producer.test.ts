import type { Producer, ProducerRecord, RecordMetadata } from 'kafkajs';
import { describe, expect, it, vi } from 'vitest';
import { BatchingProducer } from '../../src/adapters/kafka-raw-producer';

/** A stand-in for kafkajs' Producer whose sends complete only when the test says so. */
function fakeProducer() {
  const sends: { record: ProducerRecord; ack: () => void; fail: (err: Error) => void }[] = [];
  const producer = {
    send: (record: ProducerRecord) =>
      new Promise<RecordMetadata[]>((resolve, reject) => {
        sends.push({ record, ack: () => resolve([]), fail: reject });
      }),
  } as unknown as Producer;
  return { producer, sends };
}

const flush = () => new Promise((r) => setImmediate(r));

function make(producer: Producer, overrides: Partial<ConstructorParameters<typeof BatchingProducer>[0]> = {}) {
  const p = new BatchingProducer({
    producer,
    topic: 'raw',
    maxBatch: 100,
    maxBatchBytes: 1 << 30,
    maxInFlight: 1,
    lingerMs: 0,
    timeoutMs: 1_000,
    maxQueued: 1_000,
    ...overrides,
  });
  p.setConnected(true);
  return p;
}

describe('BatchingProducer (group commit)', () => {
  it('groups records that arrive while a send is in flight into the next single send, acks=-1', async () => {
    const { producer, sends } = fakeProducer();
    const p = make(producer);
    const settled: string[] = [];
    const first = p.send({ value: 'a' }).then(() => settled.push('a'));
    const rest = ['b', 'c', 'd'].map((v) => p.send({ value: v }).then(() => settled.push(v)));
    await flush();
    expect(sends).toHaveLength(1);
    expect(sends[0]!.record.messages.map((m) => m.value)).toEqual(['a']);
    expect(sends[0]!.record.acks).toBe(-1);
    expect(settled).toEqual([]);
    sends[0]!.ack();
    await first;
    await flush();
    expect(sends).toHaveLength(2);
    expect(sends[1]!.record.messages.map((m) => m.value)).toEqual(['b', 'c', 'd']);
    expect(settled).toEqual(['a']);
    sends[1]!.ack();
    await Promise.all(rest);
    expect(settled).toEqual(['a', 'b', 'c', 'd']);
  });

  it('rejects every request of a failed batch with a retryable kafka_unavailable', async () => {
    const { producer, sends } = fakeProducer();
    const p = make(producer, { maxInFlight: 1 });
    const a = p.send({ value: 'a' });
    await flush();
    sends[0]!.fail(Object.assign(new Error('broker gone'), { retriable: true }));
    await expect(a).rejects.toMatchObject({ code: 'kafka_unavailable', disposition: 'retry' });
  });

  it('fails fast when not connected or when the queue is full', async () => {
    const { producer, sends } = fakeProducer();
    const p = make(producer, { maxQueued: 1 });
    p.setConnected(false);
    await expect(p.send({ value: 'x' })).rejects.toMatchObject({ code: 'kafka_unavailable' });
    p.setConnected(true);
    void p.send({ value: 'in-flight' }).catch(() => undefined);
    await flush();
    void p.send({ value: 'queued' }).catch(() => undefined);
    await expect(p.send({ value: 'overflow' })).rejects.toMatchObject({ code: 'kafka_unavailable' });
    expect(sends).toHaveLength(1);
  });

  it('withdraws a record that is still queued when its wait times out', async () => {
    const { producer, sends } = fakeProducer();
    const p = make(producer, { timeoutMs: 30 });
    const inFlight = p.send({ value: 'slow' });
    await flush();
    const queued = p.send({ value: 'late' });
    await Promise.all([expect(queued).rejects.toMatchObject({ code: 'kafka_timeout' }), expect(inFlight).rejects.toMatchObject({ code: 'kafka_timeout' })]);
    sends[0]!.ack();
    await flush();
    // The withdrawn record is never sent after its request was answered with 503.
    expect(sends.flatMap((s) => s.record.messages.map((m) => m.value))).toEqual(['slow']);
  });

  it('splits a large backlog into sends of at most maxBatch records', async () => {
    const { producer, sends } = fakeProducer();
    const p = make(producer, { maxBatch: 2, maxInFlight: 1 });
    const all = ['1', '2', '3', '4', '5'].map((v) => p.send({ value: v }));
    for (let i = 0; i < 3; i += 1) {
      await flush();
      sends[i]!.ack();
      await flush();
    }
    await Promise.all(all);
    expect(sends.map((s) => s.record.messages.map((m) => m.value))).toEqual([['1'], ['2', '3'], ['4', '5']]);
  });
  it('lingers: a send goes out once its oldest record waited lingerMs, carrying everything queued by then', async () => {
    vi.useFakeTimers();
    try {
      const { producer, sends } = fakeProducer();
      const p = make(producer, { lingerMs: 3 });
      const a = p.send({ value: 'a' });
      await vi.advanceTimersByTimeAsync(2);
      const b = p.send({ value: 'b' });
      expect(sends).toHaveLength(0);
      await vi.advanceTimersByTimeAsync(1);
      expect(sends.map((s) => s.record.messages.map((m) => m.value))).toEqual([['a', 'b']]);
      // Records queued behind the in-flight send already waited longer than lingerMs: they leave as soon as it completes.
      const c = p.send({ value: 'c' });
      await vi.advanceTimersByTimeAsync(5);
      expect(sends).toHaveLength(1);
      sends[0]!.ack();
      await Promise.all([a, b]);
      await vi.advanceTimersByTimeAsync(1);
      expect(sends.map((s) => s.record.messages.map((m) => m.value))).toEqual([['a', 'b'], ['c']]);
      sends[1]!.ack();
      await c;
    } finally {
      vi.useRealTimers();
    }
  });

  it('stops lingering once as many records wait as the largest recent batch (at least 8): the senders it answered are back', async () => {
    vi.useFakeTimers();
    try {
      const { producer, sends } = fakeProducer();
      const p = make(producer, { lingerMs: 5 });
      const values = (n: number, from: number) => Array.from({ length: n }, (_, i) => String(from + i));
      const sizes = () => sends.map((s) => s.record.messages.length);
      // Ten senders, then a linger: one batch of ten.
      let pending = values(10, 0).map((v) => p.send({ value: v }));
      await vi.advanceTimersByTimeAsync(5);
      expect(sizes()).toEqual([10]);
      sends[0]!.ack();
      await Promise.all(pending);
      // The same ten come back: the tenth goes out at once, without lingering.
      pending = values(9, 10).map((v) => p.send({ value: v }));
      await vi.advanceTimersByTimeAsync(1);
      expect(sizes()).toEqual([10]);
      pending.push(p.send({ value: '19' }));
      expect(sizes()).toEqual([10, 10]);
      sends[1]!.ack();
      await Promise.all(pending);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps lingering when recent batches held fewer than 8 records', async () => {
    vi.useFakeTimers();
    try {
      const { producer, sends } = fakeProducer();
      const p = make(producer, { lingerMs: 5 });
      let pending = ['a', 'b', 'c'].map((v) => p.send({ value: v }));
      await vi.advanceTimersByTimeAsync(5);
      sends[0]!.ack();
      await Promise.all(pending);
      pending = ['d', 'e', 'f'].map((v) => p.send({ value: v }));
      await vi.advanceTimersByTimeAsync(4);
      expect(sends).toHaveLength(1);
      await vi.advanceTimersByTimeAsync(1);
      expect(sends.map((s) => s.record.messages.length)).toEqual([3, 3]);
      sends[1]!.ack();
      await Promise.all(pending);
    } finally {
      vi.useRealTimers();
    }
  });

  it('does not linger once a batch is full', async () => {
    vi.useFakeTimers();
    try {
      const { producer, sends } = fakeProducer();
      const p = make(producer, { lingerMs: 50, maxBatch: 2 });
      void p.send({ value: 'a' });
      expect(sends).toHaveLength(0);
      void p.send({ value: 'b' });
      expect(sends.map((s) => s.record.messages.map((m) => m.value))).toEqual([['a', 'b']]);
    } finally {
      vi.useRealTimers();
    }
  });
  it('puts each send in one partition, the next send in the next, when the partition count is known', async () => {
    const { producer, sends } = fakeProducer();
    const p = make(producer, { partitions: () => 3 });
    const first = [p.send({ key: 'k1', value: 'a' })];
    await flush();
    const second = ['b', 'c'].map((v) => p.send({ key: v, value: v }));
    sends[0]!.ack();
    await Promise.all(first);
    await flush();
    expect(sends.map((s) => s.record.messages.map((m) => m.partition))).toEqual([[0], [1, 1]]);
    sends[1]!.ack();
    await Promise.all(second);
  });

  it('leaves the partition to the key when the partition count is unknown', async () => {
    const { producer, sends } = fakeProducer();
    const p = make(producer, { partitions: () => undefined });
    void p.send({ key: 'k', value: 'a' });
    await flush();
    expect(sends[0]!.record.messages[0]!.partition).toBeUndefined();
  });

  it('sends a batch as the one record combine makes of it, in its partition, and settles every request by that send', async () => {
    const { producer, sends } = fakeProducer();
    const p = make(producer, { partitions: () => 2, combine: (ms) => ({ key: null, value: ms.map((m) => String(m.value)).join('+') }) });
    const settled: string[] = [];
    void p.send({ key: 'a', value: 'a' }).then(() => settled.push('a'));
    await flush();
    const rest = ['b', 'c', 'd'].map((v) => p.send({ key: v, value: v }).then(() => settled.push(v)));
    sends[0]!.ack();
    await flush();
    expect(sends.map((s) => s.record.messages)).toEqual([[{ key: null, value: 'a', partition: 0 }], [{ key: null, value: 'b+c+d', partition: 1 }]]);
    sends[1]!.ack();
    await Promise.all(rest);
    expect(settled).toEqual(['a', 'b', 'c', 'd']);
  });

  it('answers 503 for the whole batch when combine refuses it, and carries on with the next', async () => {
    const { producer, sends } = fakeProducer();
    const p = make(producer, {
      combine: (ms) => {
        if (ms.some((m) => m.value === 'bad')) throw new Error('no');
        return ms[0]!;
      },
    });
    await expect(p.send({ value: 'bad' })).rejects.toMatchObject({ code: 'produce_failed', httpStatus: 503 });
    void p.send({ value: 'good' });
    await flush();
    expect(sends.map((s) => s.record.messages.map((m) => m.value))).toEqual([['good']]);
  });
});
