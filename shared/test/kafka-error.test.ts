import { describe, expect, it } from 'vitest';
import { KafkaJSConnectionError, KafkaJSNonRetriableError, KafkaJSNumberOfRetriesExceeded, KafkaJSProtocolError } from 'kafkajs';
import { kafkaError } from '../src';

// kafkajs' runtime constructor takes { cause }; its type declarations omit it.
type WithCause = new (e: Error, options: { cause: Error }) => Error;

describe('kafkaError', () => {
  it('treats connection trouble as transient, however kafkajs wraps it', () => {
    const refused = new KafkaJSConnectionError('Connection error: connect ECONNREFUSED 127.0.0.1:9092');
    expect(kafkaError(refused, 'produce').disposition).toBe('retry');
    expect(kafkaError(new KafkaJSNumberOfRetriesExceeded(refused, { retryCount: 5, retryTime: 3000 }), 'produce')).toMatchObject({
      code: 'kafka_unavailable',
      disposition: 'retry',
    });
    expect(kafkaError(new (KafkaJSNonRetriableError as unknown as WithCause)(refused, { cause: refused }), 'produce').disposition).toBe('retry');
  });
  it('treats a record the broker refuses as final for that record', () => {
    const tooLarge = new KafkaJSProtocolError({
      type: 'MESSAGE_TOO_LARGE',
      code: 10,
      retriable: false,
      message: 'The request included a message larger than the max message size the server will accept',
    } as unknown as Error);
    expect(kafkaError(tooLarge, 'produce')).toMatchObject({ code: 'kafka_record_rejected', disposition: 'dead-letter' });
    // kafkajs' retrier wraps the broker's answer with `{ cause }` (retry/index.js).
    expect(kafkaError(new (KafkaJSNonRetriableError as unknown as WithCause)(tooLarge, { cause: tooLarge }), 'produce').disposition).toBe('dead-letter');
  });
});
