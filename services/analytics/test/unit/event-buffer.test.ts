import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { EventBuffer, type TopicRole } from '../../src/adapters/event-buffer';
import { createLatencyTracker } from '../../src/domain/latency-tracker';
import { createRateCard, parseRateCardCsv } from '../../src/domain/rate-card';
import { createRowMapper } from '../../src/domain/rows';
import { createAnalyticsMetrics } from '../../src/metrics';
import { sentEvents, statusEvents, buildFixture } from '../fixtures/events';

const card = createRateCard(parseRateCardCsv('country,category,pricing_model,effective_from,usd_rate\nIN,marketing,PMP,2025-07-01,0.0118\n'));
const roles = new Map<string, TopicRole>([
  ['sent', 'sent'],
  ['status', 'status'],
]);

function buffer() {
  return new EventBuffer({
    roles,
    mapper: createRowMapper({ salt: 'unit-salt', rateCard: () => card }),
    tracker: createLatencyTracker(),
    metrics: createAnalyticsMetrics(new Registry()),
    clock: { now: () => Date.parse('2025-08-06T00:00:00Z') },
  });
}

const { messages } = buildFixture(Date.parse('2025-08-10T00:00:00Z'));
const p1 = messages.find((m) => m.wamid === 'wamid.p1')!;

describe('event buffer', () => {
  it('maps records to rows, prices charges and marks the roll-up days they touch', () => {
    const b = buffer();
    const statuses = statusEvents([p1]);
    statuses.forEach((s, i) => b.add({ topic: 'status', partition: 0, offset: String(10 + i), value: Buffer.from(JSON.stringify(s)) }));
    b.add({ topic: 'sent', partition: 1, offset: '7', value: Buffer.from(JSON.stringify(sentEvents([p1])[0])) });
    const { rows, offsets, events } = b.take();
    expect(events).toBe(4);
    expect(rows.status_events).toHaveLength(3);
    expect(rows.send_attempts).toHaveLength(1);
    expect(rows.charges!.map((c) => [c.charge_key, c.cost_micros])).toEqual([
      ['PMP:wamid.p1', 11_800],
      ['PMP:wamid.p1', 11_800],
    ]);
    expect(rows.status_events!.every((r) => !JSON.stringify(r).includes('919876543210'))).toBe(true);
    expect(offsets).toEqual([
      { topic: 'status', partition: 0, offset: '13' },
      { topic: 'sent', partition: 1, offset: '8' },
    ]);
    expect(rows.rollup_dirty).toEqual(
      expect.arrayContaining([
        { kind: 'delivery_status', day: '2025-08-05' },
        { kind: 'spend', day: '2025-08-05' },
        { kind: 'spend', day: '2025-08-06' },
        { kind: 'delivery', day: '2025-08-05' },
        { kind: 'components', day: '2025-08-05' },
      ]),
    );
    expect(b.size).toBe(0);
  });

  // https://developers.facebook.com/documentation/business-messaging/whatsapp/pricing
  it('prices a charge by the rules of its send time: the dispatcher’s send before the 2026-10-01 boundary', () => {
    const boundaryCard = createRateCard(
      parseRateCardCsv('country,category,pricing_model,effective_from,usd_rate\nIN,utility,PMP,2025-07-01,0.0014\nIN,utility,PMP,2026-10-01,0.0016\n'),
    );
    const b = new EventBuffer({
      roles,
      mapper: createRowMapper({ salt: 'unit-salt', rateCard: () => boundaryCard }),
      tracker: createLatencyTracker(),
      metrics: createAnalyticsMetrics(new Registry()),
      clock: { now: () => Date.parse('2026-10-01T00:00:10Z') },
    });
    const [send] = sentEvents([p1]);
    const sentAt = '2026-09-30T23:59:58.000Z';
    b.add({ topic: 'sent', partition: 1, offset: '1', value: Buffer.from(JSON.stringify({ ...send, occurredAt: sentAt })) });
    const [, delivered] = statusEvents([p1]);
    const crossing = {
      ...delivered,
      statusAt: '2026-10-01T00:00:03.000Z',
      pricing: { pricingModel: 'PMP', category: 'utility', type: 'free_customer_service' },
    };
    b.add({ topic: 'status', partition: 0, offset: '1', value: Buffer.from(JSON.stringify(crossing)) });
    const charge = b.take().rows.charges![0]!;
    expect(charge).toMatchObject({ priced_at: sentAt, billable: 0, free_type: 'free_customer_service', cost_micros: 0 });
  });

  it('turns an undecodable record into a dead-letter row and still commits past it', () => {
    const b = buffer();
    b.add({ topic: 'status', partition: 2, offset: '41', value: Buffer.from('{"v":1') });
    b.add({ topic: 'status', partition: 2, offset: '42', value: Buffer.from(JSON.stringify({ v: 1, wamid: 'x' })) });
    const { rows, offsets } = b.take();
    expect(rows.dead_letters!.map((d) => [d.event_id, d.reason, d.service])).toEqual([
      ['status:2:41', 'invalid_json', 'analytics'],
      ['status:2:42', 'schema_violation', 'analytics'],
    ]);
    expect(offsets).toEqual([{ topic: 'status', partition: 2, offset: '43' }]);
  });

  it('names the exact offset ranges in its dedupe token', () => {
    const value = Buffer.from(JSON.stringify(statusEvents([p1])[0]));
    const tokenOf = (from: number, to: number) => {
      const b = buffer();
      for (let o = from; o <= to; o++) b.add({ topic: 'status', partition: 0, offset: String(o), value });
      return b.take().token;
    };
    expect(tokenOf(5, 9)).toBe(tokenOf(5, 9));
    expect(tokenOf(5, 9)).not.toBe(tokenOf(6, 9));
    expect(tokenOf(5, 9)).not.toBe(tokenOf(5, 10));
  });
});
