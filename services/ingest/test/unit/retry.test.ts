import { describe, expect, it } from 'vitest';
import { AppError } from '@wa/shared/errors';
import { backoffDelayMs, isProgrammerError, isStalled } from '../../src/domain/retry';

describe('backoffDelayMs', () => {
  const opts = { baseMs: 250, maxMs: 10_000 };
  it('doubles per attempt up to the cap (upper bound with random = 1)', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 10].map((a) => backoffDelayMs(a, opts, () => 1))).toEqual([250, 500, 1000, 2000, 4000, 8000, 10_000, 10_000]);
  });
  it('jitters over the whole range but never below the base', () => {
    expect(backoffDelayMs(5, opts, () => 0.5)).toBe(2000);
    expect(backoffDelayMs(5, opts, () => 0)).toBe(250);
  });
});

describe('isStalled', () => {
  it('is true only after more than stallMs of silence', () => {
    expect(isStalled(1_000, 91_000, 90_000)).toBe(false);
    expect(isStalled(1_000, 91_001, 90_000)).toBe(true);
  });
});

describe('isProgrammerError', () => {
  it('finds a bug through kafkajs-style wrappers', () => {
    const bug = new TypeError("Cannot read properties of undefined (reading 'offset')");
    const wrapped = Object.assign(new Error(bug.message, { cause: bug }), { name: 'KafkaJSNonRetriableError' });
    expect(isProgrammerError(bug)).toBe(true);
    expect(isProgrammerError(wrapped)).toBe(true);
  });
  it('treats dependency failures as transient, even when their cause is a TypeError (fetch fails with one)', () => {
    const conn = Object.assign(new Error('Connection error: connect ECONNREFUSED 127.0.0.1:9092'), { name: 'KafkaJSConnectionError' });
    expect(isProgrammerError(Object.assign(new Error('retries exceeded', { cause: conn }), { name: 'KafkaJSNumberOfRetriesExceeded' }))).toBe(false);
    expect(isProgrammerError(new AppError('kafka_unavailable', 'produce', 'retry', { cause: new TypeError('fetch failed') }))).toBe(false);
    expect(isProgrammerError('a string')).toBe(false);
  });
});
