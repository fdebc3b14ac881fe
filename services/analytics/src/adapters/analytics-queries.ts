import { senderPanel, type AccountEventRow } from '../domain/sender-panel';
import { num, type ClickHouseStore } from './clickhouse-store';

export const DELIVERY_GROUPS = ['none', 'campaign', 'template', 'country', 'sender', 'category', 'hour', 'day'] as const;
export type DeliveryGroup = (typeof DELIVERY_GROUPS)[number];
export const COST_GROUPS = ['none', 'day', 'month', 'country', 'category', 'model', 'sender', 'campaign', 'free_type', 'template', 'message_type'] as const;
export type CostGroup = (typeof COST_GROUPS)[number];

const DELIVERY_KEY: Record<DeliveryGroup, string> = {
  none: "'all'",
  campaign: 'campaign_id',
  template: 'template',
  country: 'country',
  sender: 'sender',
  category: 'category',
  hour: "formatDateTime(hour, '%Y-%m-%dT%H:00:00Z')",
  day: "formatDateTime(toDate(hour), '%Y-%m-%d')",
};

const COST_KEY: Record<CostGroup, string> = {
  none: "'all'",
  day: "formatDateTime(day, '%Y-%m-%d')",
  month: "formatDateTime(day, '%Y-%m')",
  country: 'country',
  category: 'category',
  model: 'pricing_model',
  sender: 'sender',
  campaign: 'campaign_id',
  free_type: "if(free_type = '', 'billable', free_type)",
  template: 'template',
  // Days rolled up before message types were recorded have '' until they are re-rolled.
  message_type: "if(message_type = '', 'unknown', toString(message_type))",
};

export interface DeliveryRow {
  key: string;
  messages: number;
  delivered: number;
  read: number;
  failed: number;
  pending: number;
  deliveryRate: number | null;
}

export interface CostRow {
  key: string;
  billableUnits: number;
  freeUnits: number;
  unpricedUnits: number;
  spendMicros: number;
}

export interface Window {
  from: Date;
  to: Date;
}

const chParam = (d: Date) => d.toISOString().replace('T', ' ').replace('Z', '');

/**
 * The SQL behind the HTTP API, the dashboard and the gauges. Aggregates come from the roll-ups
 * (adapters/rollups.ts: exact, at most one refresh interval behind); live throughput reads the raw
 * tables of the last minutes. Only whitelisted expressions are interpolated; values are parameters.
 * Delivery windows are whole hours (by send time), cost windows whole UTC days (by pricing day).
 */
export function createAnalyticsQueries(store: ClickHouseStore) {
  const db = store.database;

  const funnelColumns = `sum(messages) AS messages, sum(delivered) AS delivered, sum(read) AS read, sum(failed) AS failed, sum(pending) AS pending`;
  const costColumns = `sum(billable_units) AS billable_units, sum(free_units) AS free_units, sum(unpriced_units) AS unpriced_units, sum(spend_micros) AS spend_micros`;

  const toDeliveryRow = (r: Record<string, unknown>): DeliveryRow => {
    const delivered = num(r.delivered);
    const failed = num(r.failed);
    return {
      key: String(r.key),
      messages: num(r.messages),
      delivered,
      read: num(r.read),
      failed,
      pending: num(r.pending),
      deliveryRate: delivered + failed === 0 ? null : delivered / (delivered + failed),
    };
  };

  const toCostRow = (r: Record<string, unknown>): CostRow => ({
    key: String(r.key),
    billableUnits: num(r.billable_units),
    freeUnits: num(r.free_units),
    unpricedUnits: num(r.unpriced_units),
    spendMicros: num(r.spend_micros),
  });

  const window = (w: Window) => ({ from: chParam(w.from), to: chParam(w.to) });

  return {
    async delivery(w: Window, groupBy: DeliveryGroup): Promise<DeliveryRow[]> {
      const rows = await store.query<Record<string, unknown>>(
        `SELECT ${DELIVERY_KEY[groupBy]} AS key, ${funnelColumns} FROM ${db}.delivery_hourly
         WHERE hour >= toStartOfHour(toDateTime64({from:String}, 3, 'UTC')) AND hour < toDateTime64({to:String}, 3, 'UTC')
         GROUP BY key ORDER BY key LIMIT 2000`,
        window(w),
      );
      return rows.map(toDeliveryRow);
    },

    /** Spend in the window, or of the given campaigns only (their whole life) when `campaigns` is set. */
    async costs(w: Window, groupBy: CostGroup, campaigns?: readonly string[]): Promise<CostRow[]> {
      const scope = campaigns
        ? 'campaign_id IN {campaigns:Array(String)}'
        : `day BETWEEN toDate(toDateTime64({from:String}, 3, 'UTC')) AND toDate(toDateTime64({to:String}, 3, 'UTC'))`;
      const rows = await store.query<Record<string, unknown>>(
        `SELECT ${COST_KEY[groupBy]} AS key, ${costColumns} FROM ${db}.spend_daily
         WHERE ${scope}
         GROUP BY key ORDER BY key LIMIT 2000`,
        campaigns ? { campaigns: [...campaigns] } : window(w),
      );
      return rows.map(toCostRow);
    },

    async campaign(id: string) {
      const [jobs] = await store.query<Record<string, unknown>>(
        `SELECT uniqExact(job_id) AS requested, uniqExactIf(job_id, outcome = 'cancelled') AS cancelled,
                uniqExactIf(job_id, outcome IN ('sent', 'failed', 'rejected', 'expired', 'cancelled', 'unknown')) AS finished
         FROM ${db}.send_attempts WHERE campaign_id = {id:String}`,
        { id },
      );
      const [funnel] = await store.query<Record<string, unknown>>(
        `SELECT 'all' AS key, ${funnelColumns} FROM ${db}.delivery_hourly WHERE campaign_id = {id:String}`,
        { id },
      );
      const failures = await store.query<Record<string, unknown>>(
        `SELECT stage, outcome, error_code, reason, sum(failures) AS failures FROM ${db}.failures_daily
         WHERE campaign_id = {id:String} AND (stage IN ('dispatch', 'webhook') OR stage = 'dlq:ingest')
         GROUP BY stage, outcome, error_code, reason ORDER BY failures DESC, error_code`,
        { id },
      );
      const [cost] = await store.query<Record<string, unknown>>(`SELECT 'all' AS key, ${costColumns} FROM ${db}.spend_daily WHERE campaign_id = {id:String}`, {
        id,
      });
      const requested = num(jobs?.requested);
      if (requested === 0 && num(funnel?.messages) === 0) return null;
      return {
        campaignId: id,
        requested,
        // Jobs with a terminal outcome (sent, failed, refused, expired, cancelled) of the jobs seen so far.
        finished: num(jobs?.finished),
        cancelled: num(jobs?.cancelled),
        funnel: toDeliveryRow(funnel ?? { key: 'all' }),
        failuresByReason: failures.map((f) => ({
          stage: String(f.stage),
          outcome: String(f.outcome),
          errorCode: num(f.error_code),
          reason: String(f.reason),
          count: num(f.failures),
        })),
        cost: toCostRow(cost ?? { key: 'all' }),
      };
    },

    /** Events per minute over the last `minutes`, from the raw tables (counted once per event id). */
    async throughput(minutes: number) {
      const rows = await store.query<Record<string, unknown>>(
        `SELECT t, sum(sent) AS sent, sum(dispatch_failed) AS dispatch_failed, sum(delivered) AS delivered, sum(read) AS read, sum(failed) AS failed FROM (
           SELECT toStartOfMinute(occurred_at) AS t, uniqExactIf(event_id, outcome = 'sent') AS sent,
                  uniqExactIf(event_id, outcome IN ('failed', 'rejected', 'expired', 'unknown')) AS dispatch_failed, 0 AS delivered, 0 AS read, 0 AS failed
           FROM ${db}.send_attempts
           WHERE toDate(occurred_at) >= toDate(now64(3) - toIntervalMinute({m:UInt32})) AND occurred_at >= now64(3) - toIntervalMinute({m:UInt32}) GROUP BY t
           UNION ALL
           SELECT toStartOfMinute(status_at) AS t, 0, 0, uniqExactIf(event_id, status = 'delivered'), uniqExactIf(event_id, status = 'read'), uniqExactIf(event_id, status = 'failed')
           FROM ${db}.status_events
           WHERE toDate(status_at) >= toDate(now64(3) - toIntervalMinute({m:UInt32})) AND status_at >= now64(3) - toIntervalMinute({m:UInt32}) GROUP BY t)
         GROUP BY t ORDER BY t`,
        { m: minutes },
      );
      return rows.map((r) => ({
        t: String(r.t),
        sent: num(r.sent),
        dispatchFailed: num(r.dispatch_failed),
        delivered: num(r.delivered),
        read: num(r.read),
        failed: num(r.failed),
      }));
    },

    /**
     * Per sender number: sends accepted in the last 60 s, 130429/131056 answers in the last `hours`
     * (all outcomes: a throttled attempt is usually retried), unique recipients in the last 24 h, and
     * the latest quality, throughput and messaging limit Meta reported (account webhooks, 90 days).
     */
    async senders(hours: number) {
      const scan = `toDate(occurred_at) >= toDate(now64(3) - toIntervalHour({scan:UInt32})) AND occurred_at >= now64(3) - toIntervalHour({scan:UInt32})`;
      const params = { h: hours, scan: Math.max(hours, 24) };
      const [sends, portfolios, account] = await Promise.all([
        store.query<Record<string, unknown>>(
          `SELECT sender_phone_number_id AS sender, anyLast(waba_id) AS waba_id,
                  uniqExactIf(event_id, outcome = 'sent' AND occurred_at >= now64(3) - INTERVAL 60 SECOND) AS sent_last_minute,
                  uniqExactIf(event_id, error_code = 130429 AND occurred_at >= now64(3) - toIntervalHour({h:UInt32})) AS e130429,
                  uniqExactIf(event_id, error_code = 131056 AND occurred_at >= now64(3) - toIntervalHour({h:UInt32})) AS e131056,
                  uniqExactIf(recipient_hash, outcome = 'sent' AND occurred_at >= now64(3) - INTERVAL 24 HOUR) AS recipients_24h
           FROM ${db}.send_attempts WHERE ${scan} GROUP BY sender ORDER BY sender LIMIT 200`,
          params,
        ),
        store.query<Record<string, unknown>>(
          `SELECT waba_id, uniqExact(recipient_hash) AS recipients FROM ${db}.send_attempts
           WHERE outcome = 'sent' AND toDate(occurred_at) >= toDate(now64(3) - INTERVAL 24 HOUR) AND occurred_at >= now64(3) - INTERVAL 24 HOUR
           GROUP BY waba_id LIMIT 200`,
        ),
        store.query<Record<string, unknown>>(
          `SELECT kind, event, waba_id, phone_number_id, display_phone_number, messaging_limit, throughput_mps, value, occurred_at FROM ${db}.account_events FINAL
           WHERE kind IN ('phone_quality', 'business_capability') AND occurred_at >= now64(3) - INTERVAL 90 DAY
           ORDER BY occurred_at DESC LIMIT 1000`,
        ),
      ]);
      const nullableNum = (v: unknown) => (v === null || v === undefined ? null : num(v));
      return senderPanel(
        sends.map((r) => ({
          sender: String(r.sender),
          wabaId: String(r.waba_id),
          sentLastMinute: num(r.sent_last_minute),
          throttled130429: num(r.e130429),
          pairLimited131056: num(r.e131056),
          recipients24h: num(r.recipients_24h),
        })),
        new Map(portfolios.map((r) => [String(r.waba_id), num(r.recipients)])),
        account.map((r): AccountEventRow => ({
          kind: String(r.kind),
          event: String(r.event),
          wabaId: String(r.waba_id),
          phoneNumberId: String(r.phone_number_id),
          displayPhoneNumber: String(r.display_phone_number ?? ''),
          messagingLimit: nullableNum(r.messaging_limit),
          throughputMps: nullableNum(r.throughput_mps),
          value: String(r.value),
          occurredAt: String(r.occurred_at),
        })),
      );
    },

    async recentCampaigns(limit: number) {
      const rows = await store.query<Record<string, unknown>>(
        `SELECT campaign_id, max(hour) AS last_hour FROM ${db}.delivery_hourly WHERE campaign_id != '' AND hour >= now() - INTERVAL 30 DAY
         GROUP BY campaign_id ORDER BY last_hour DESC, campaign_id LIMIT {n:UInt32}`,
        { n: limit },
      );
      return rows.map((r) => ({ campaignId: String(r.campaign_id), lastActivityAt: String(r.last_hour) }));
    },

    /** Delivery rate of messages sent in the hour buckets overlapping the last `seconds`; null when nothing resolved yet. */
    async deliveryRateSince(seconds: number): Promise<number | null> {
      const [row] = await store.query<Record<string, unknown>>(
        `SELECT 'all' AS key, ${funnelColumns} FROM ${db}.delivery_hourly WHERE hour >= toStartOfHour(now() - toIntervalSecond({s:UInt32}))`,
        { s: seconds },
      );
      return row ? toDeliveryRow(row).deliveryRate : null;
    },

    /** Spend per message type × template in the window (a free-form type has template ''). */
    async costsByMessage(w: Window): Promise<(CostRow & { messageType: string; template: string })[]> {
      const rows = await store.query<Record<string, unknown>>(
        `SELECT ${COST_KEY.message_type} AS key, template, ${costColumns} FROM ${db}.spend_daily
         WHERE day BETWEEN toDate(toDateTime64({from:String}, 3, 'UTC')) AND toDate(toDateTime64({to:String}, 3, 'UTC'))
         GROUP BY key, template ORDER BY spend_micros DESC, key, template LIMIT 200`,
        window(w),
      );
      return rows.map((r) => ({ ...toCostRow(r), key: `${String(r.key)}/${String(r.template)}`, messageType: String(r.key), template: String(r.template) }));
    },

    async spendByCategoryCountry(): Promise<{ category: string; country: string; spendMicros: number }[]> {
      const rows = await store.query<Record<string, unknown>>(
        `SELECT category, country, sum(spend_micros) AS spend_micros FROM ${db}.spend_daily GROUP BY category, country`,
      );
      return rows.map((r) => ({ category: String(r.category), country: String(r.country), spendMicros: num(r.spend_micros) }));
    },
  };
}
export type AnalyticsQueries = ReturnType<typeof createAnalyticsQueries>;
