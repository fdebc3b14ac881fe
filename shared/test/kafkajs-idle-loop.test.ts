import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import '../src/kafka';
import { kafkajsRequestQueue, scheduleCheckPendingRequests } from '../src/kafkajs-idle-loop';

// kafkajs' RequestQueue, as loaded by kafkajs itself; importing ../src/kafka installs the fix.
type Queue = {
  push(request: { entry: Record<string, unknown>; expectResponse: boolean; sendRequest: () => void }): void;
  fulfillRequest(response: { correlationId: number; payload: Buffer | null; size: number }): void;
  checkPendingRequests(): void;
  maybeThrottle(ms: number): void;
  pending: unknown[];
};
const RequestQueue = kafkajsRequestQueue() as unknown as new (options: Record<string, unknown>) => Queue;
const logger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

function queue(maxInFlightRequests: number | null = null): Queue {
  return new RequestQueue({ maxInFlightRequests, requestTimeout: 30_000, enforceRequestTimeout: false, clientId: 't', broker: 'b:9092', logger });
}

function request(correlationId: number, sent: number[]) {
  const entry = { correlationId, apiKey: 1, apiName: 'Fetch', apiVersion: 11, resolve: () => undefined, reject: () => undefined };
  return { entry, expectResponse: true, sendRequest: () => sent.push(correlationId) };
}

describe('kafkajs request queue (github.com/tulios/kafkajs/issues/1556)', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('is installed on the RequestQueue kafkajs uses', () => {
    expect((RequestQueue as unknown as { prototype: unknown }).prototype).toHaveProperty('scheduleCheckPendingRequests', scheduleCheckPendingRequests);
  });

  it('arms no timer once every request is answered and nothing waits', () => {
    const q = queue();
    const sent: number[] = [];
    q.push(request(1, sent));
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    // kafkajs 2.2.4 armed a 1 ms timer here that re-armed itself for ever.
    expect(vi.getTimerCount()).toBe(0);
    q.checkPendingRequests();
    expect(vi.getTimerCount()).toBe(0);
    expect(sent).toEqual([1]);
  });

  it('sends a request held by the in-flight limit when a response frees a place, then goes quiet', () => {
    const q = queue(1);
    const sent: number[] = [];
    q.push(request(1, sent));
    q.push(request(2, sent));
    expect(sent).toEqual([1]);
    expect(vi.getTimerCount()).toBe(1); // kafkajs' 10 ms poll while a request waits
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(sent).toEqual([1, 2]);
    vi.advanceTimersByTime(10);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('sends a request held by a broker throttle when the throttle ends', () => {
    const q = queue();
    const sent: number[] = [];
    q.maybeThrottle(50);
    q.push(request(1, sent));
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(49);
    expect(sent).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(sent).toEqual([1]);
    expect(q.pending).toHaveLength(0);
    q.fulfillRequest({ correlationId: 1, payload: null, size: 0 });
    expect(vi.getTimerCount()).toBe(0);
  });
});
