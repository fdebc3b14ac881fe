import { systemClock, type Clock } from '@wa/shared/clock';
import { decodeJson } from '@wa/shared/decode';
import { accountEventV1, deadLetterV1, inboundEventV1, sentEventV1, statusEventV1 } from '@wa/shared/index';
import { accountRow, chTime, deadLetterRow, sendAttemptRow, type RowMapper } from '../domain/rows';
import type { LatencyTracker } from '../domain/latency-tracker';
import { volumeTierRow } from '../domain/volume-tier';
import type { AnalyticsMetrics } from '../metrics';
import type { EventTable, RowsByTable } from './clickhouse-store';
import type { RollupKind } from './rollups';

export type TopicRole = 'sent' | 'status' | 'inbound' | 'account' | 'notificationsDlq' | 'dispatchDlq';

export interface RecordRef {
  topic: string;
  partition: number;
  offset: string;
  value: Buffer | null;
}

/**
 * Accumulates decoded records as ClickHouse rows until the next flush, and the offsets that flush
 * may commit. A record that does not decode is not dropped silently: it becomes a `dead_letters`
 * row (service `analytics`) and is counted, and the consumer moves on.
 */
export class EventBuffer {
  private rows: Required<RowsByTable> = emptyRows();
  /** Per topic-partition: the first and last offset buffered (the commit is last + 1, computed at take). */
  private offsets = new Map<string, { topic: string; partition: number; last: string; first: string }>();
  private firstAtMs: number | undefined;
  private count = 0;
  private dirty = new Set<string>();
  /** Per-batch counts, added to the Prometheus counter once per batch rather than per record. */
  private tally = new Map<string, { topic: string; result: 'ok' | 'invalid'; n: number }>();

  constructor(
    private readonly deps: {
      roles: ReadonlyMap<string, TopicRole>;
      mapper: RowMapper;
      tracker: LatencyTracker;
      metrics: AnalyticsMetrics;
      clock?: Clock;
    },
  ) {}

  get size(): number {
    return this.count;
  }

  get ageMs(): number {
    return this.firstAtMs === undefined ? 0 : (this.deps.clock ?? systemClock).now() - this.firstAtMs;
  }

  add(record: RecordRef): void {
    const role = this.deps.roles.get(record.topic);
    if (role === undefined) return;
    this.firstAtMs ??= (this.deps.clock ?? systemClock).now();
    const key = `${record.topic}:${record.partition}`;
    const range = this.offsets.get(key);
    if (range) range.last = record.offset;
    else this.offsets.set(key, { topic: record.topic, partition: record.partition, last: record.offset, first: record.offset });
    this.count += 1;
    const result = this.map(role, record) ? 'ok' : 'invalid';
    const tallyKey = `${record.topic}|${result}`;
    const t = this.tally.get(tallyKey);
    if (t) t.n += 1;
    else this.tally.set(tallyKey, { topic: record.topic, result, n: 1 });
  }

  /** Hands over everything buffered and starts afresh. */
  take(): { rows: RowsByTable; offsets: { topic: string; partition: number; offset: string }[]; events: number; token: string } {
    const ranges = [...this.offsets.values()].map(({ topic, partition, first, last }) => ({ topic, partition, first, offset: (BigInt(last) + 1n).toString() }));
    const offsets = ranges.map(({ topic, partition, offset }) => ({ topic, partition, offset }));
    // The token names the exact offset ranges, so only a replay of the very same records matches it.
    const token = ranges
      .map((o) => `${o.topic}/${o.partition}/${o.first}-${o.offset}`)
      .sort()
      .join(',');
    for (const mark of this.dirty) {
      const [kind, day] = mark.split('|');
      this.rows.rollup_dirty.push({ kind, day });
    }
    for (const t of this.tally.values()) this.deps.metrics.events.inc({ topic: t.topic, result: t.result }, t.n);
    this.tally = new Map();
    const taken = { rows: this.rows, offsets, events: this.count, token: tokenHash(token) };
    this.rows = emptyRows();
    this.dirty = new Set();
    this.offsets = new Map();
    this.firstAtMs = undefined;
    this.count = 0;
    return taken;
  }

  private push(table: EventTable, row: Record<string, unknown>): void {
    this.rows[table].push(row);
  }

  private mark(kind: RollupKind, iso: string, plusDays = 0): void {
    this.dirty.add(`${kind}|${utcDay(iso, plusDays)}`);
  }

  private map(role: TopicRole, record: RecordRef): boolean {
    switch (role) {
      case 'sent': {
        const d = decodeJson(sentEventV1, record.value);
        if (!d.ok) return this.invalid(record, d.reason, d.detail);
        this.push('send_attempts', sendAttemptRow(d.value));
        this.deps.mapper.sent(d.value);
        // A send can arrive after its statuses and charges: it brings the campaign they roll up under.
        const day = utcDay(d.value.occurredAt);
        this.dirty
          .add(`delivery|${day}`)
          .add(`failures|${day}`)
          .add(`components|${day}`)
          .add(`spend|${day}`)
          .add(`spend|${utcDay(d.value.occurredAt, 1)}`);
        if (d.value.outcome === 'sent' && d.value.wamid) this.observe(this.deps.tracker.accepted(d.value.wamid, Date.parse(d.value.requestedAt)));
        return true;
      }
      case 'status': {
        const d = decodeJson(statusEventV1, record.value);
        if (!d.ok) return this.invalid(record, d.reason, d.detail);
        const mapped = this.deps.mapper.status(d.value);
        this.push('status_events', mapped.status);
        this.mark('delivery_status', d.value.statusAt);
        if (d.value.status === 'failed') this.mark('failures', d.value.statusAt);
        if (mapped.charge) {
          this.push('charges', mapped.charge);
          this.mark('spend', mapped.charge.priced_at);
        }
        if (mapped.priced?.unpriced) this.deps.metrics.unpriced.inc({ pricing_model: mapped.priced.pricingModel, category: mapped.priced.category });
        this.observe(this.deps.tracker.status(d.value.wamid, d.value.status, Date.parse(d.value.statusAt)));
        return true;
      }
      case 'inbound': {
        const d = decodeJson(inboundEventV1, record.value);
        if (!d.ok) return this.invalid(record, d.reason, d.detail);
        this.push('inbound_messages', this.deps.mapper.inbound(d.value));
        return true;
      }
      case 'account': {
        const d = decodeJson(accountEventV1, record.value);
        if (!d.ok) return this.invalid(record, d.reason, d.detail);
        this.push('account_events', accountRow(d.value));
        // Meta's volume-tier announcements price the month in v_monthly_cost_volume_tiered.
        const tier = volumeTierRow(d.value);
        if (tier) this.push('volume_tiers', tier);
        return true;
      }
      case 'notificationsDlq':
      case 'dispatchDlq': {
        const d = decodeJson(deadLetterV1, record.value, 16 * 1024 * 1024);
        if (!d.ok) return this.invalid(record, d.reason, d.detail);
        this.push('dead_letters', deadLetterRow(d.value, { topic: record.topic, dlqTopic: record.topic, partition: record.partition, offset: record.offset }));
        this.mark('failures', d.value.occurredAt);
        return true;
      }
    }
  }

  private observe(seconds: number | undefined): void {
    if (seconds !== undefined) this.deps.metrics.requestToDelivered.observe(seconds);
  }

  private invalid(record: RecordRef, reason: string, detail: string): false {
    const now = chTime((this.deps.clock ?? systemClock).now());
    this.mark('failures', now);
    this.push('dead_letters', {
      event_id: `${record.topic}:${record.partition}:${record.offset}`,
      dlq_topic: record.topic,
      reason,
      detail: detail.slice(0, 2000),
      service: 'analytics',
      source_kind: 'kafka',
      source_topic: record.topic,
      job_id: '',
      request_key: '',
      campaign_id: '',
      error_code: 0,
      original_bytes: record.value?.length ?? 0,
      occurred_at: now,
    });
    return false;
  }
}

/** The UTC day (`YYYY-MM-DD`) of an ISO time, optionally some days later; no Date for a `…Z` time on the same day. */
function utcDay(iso: string, plusDays = 0): string {
  return plusDays === 0 && iso.endsWith('Z') ? iso.slice(0, 10) : new Date(Date.parse(iso) + plusDays * 86_400_000).toISOString().slice(0, 10);
}

function emptyRows(): Required<RowsByTable> {
  return { send_attempts: [], status_events: [], charges: [], inbound_messages: [], account_events: [], volume_tiers: [], dead_letters: [], rollup_dirty: [] };
}

/** FNV-1a over the offset ranges: a short, stable token for the same batch replayed as a whole. */
function tokenHash(text: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  return `${(h1 >>> 0).toString(36)}${(h2 >>> 0).toString(36)}${text.length.toString(36)}`;
}
