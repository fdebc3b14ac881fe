import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@wa/shared/testing';
import { Harness, request } from './harness';

// The Kafka door keeps dead-lettering (no caller to answer): a far-off notBefore is refused, not held in Redis for years.
describe('notBefore horizon on wa.notifications.requested', () => {
  const h = new Harness();
  beforeAll(async () => {
    await h.setup({ partitions: 1 });
    await h.startService();
    await h.collect();
  });
  afterAll(() => h.teardown());

  it('dead-letters a request held beyond NOT_BEFORE_HORIZON_DAYS and holds one within it', async () => {
    const far = request({ notBefore: '9999-12-31T00:00:00Z' });
    const near = request({ notBefore: new Date(Date.now() + 2 * 86_400_000).toISOString() });
    await h.send([far, near]);
    await waitFor(() => h.dlq.some((d) => d.requestKey === far.idempotencyKey), { timeoutMs: 30_000, description: 'the far request dead-lettered' });
    const dead = h.dlq.find((d) => d.requestKey === far.idempotencyKey)!;
    expect(dead.reason).toBe('schema_violation');
    expect(dead.detail).toMatch(/more than 30 days ahead/);
    expect(h.dlq.some((d) => d.requestKey === near.idempotencyKey)).toBe(false);
  });
});
