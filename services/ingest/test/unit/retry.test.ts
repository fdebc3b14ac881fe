import { describe, expect, it } from 'vitest';
import { AppError } from '@wa/shared/errors';
import { isProgrammerError, isStalled } from '../../src/domain/retry';

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
