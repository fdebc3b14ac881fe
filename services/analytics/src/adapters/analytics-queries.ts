import { num, type ClickHouseStore } from './clickhouse-store';

export const DELIVERY_GROUPS = ['none', 'campaign', 'template', 'country', 'sender', 'category', 'hour', 'day'] as const;
export type DeliveryGroup = (typeof DELIVERY_GROUPS)[number];
export const COST_GROUPS = ['none', 'day', 'month', 'country', 'category', 'model', 'sender', 'campaign', 'free_type'] as const;
export type CostGroup = (typeof COST_GROUPS)[number];

const DELIVERY_KEY: Record<DeliveryGroup, string> = {
  none: "'all'",
  campaign: 'campaign_id',
  template: 'template',
  country: 'country',
  sender: 'sender',
  category: 'category',
  hour: "formatDateTime(toStartOfHour(first_sent_at), '%Y-%m-%dT%H:00:00Z')",
  day: "formatDateTime(toStartOfDay(first_sent_at), '%Y-%m-%d')",
};

const COST_KEY: Record<CostGroup, string> = {
  none: "'all'",
  day: "formatDateTime(priced_at, '%Y-%m-%d')",
  month: "formatDateTime(priced_at, '%Y-%m')",
  country: 'country',
  category: 'category',
  model: 'pricing_model',
  sender: 'phone_number_id',
  campaign: 'campaign_id',
  free_type: "if(billable = 1, 'billable', free_type)",
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
 * The SQL behind the HTTP API, the dashboard and the gauges. Every query reads the idempotent
 * views or folds the raw tables with idempotent aggregates; only whitelisted expressions are
 * interpolated, values travel as query parameters.
 */
export function createAnalyticsQueries(store: ClickHouseStore) {
  const db = store.database;

  /** message_state rows of messages whose API acceptance (or first `sent`) falls in the window, folded per message. */
  const messagesIn = (where: string) => `
    SELECT msg_key, max(campaign_id) AS campaign_id, max(template) AS template, max(category) AS category, max(sender) AS sender,
           max(country) AS country, max(rank) AS state_rank, min(sent_at) AS first_sent_at, min(requested_at) AS first_requested_at,
           min(delivered_at) AS first_delivered_at, min(read_at) AS first_read_at, max(fail_code) AS fail_code, max(fail_reason) AS fail_reason
    FROM ${db}.message_state
    WHERE msg_key IN (SELECT msg_key FROM ${db}.message_state WHERE ${where})
    GROUP BY msg_key`;

  const funnelColumns = `count() AS messages, countIf(state_rank IN (2, 3)) AS delivered, countIf(state_rank = 3) AS read,
    countIf(state_rank = 4) AS failed, countIf(state_rank = 1) AS pending`;

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

  const costColumns = `countIf(billable = 1) AS billable_units, countIf(billable = 0) AS free_units, countIf(unpriced = 1) AS unpriced_units, sum(cost_micros) AS spend_micros`;

  return {
    async delivery(window: Window, groupBy: DeliveryGroup): Promise<DeliveryRow[]> {
      const rows = await store.query<Record<string, unknown>>(
        `SELECT ${DELIVERY_KEY[groupBy]} AS key, ${funnelColumns}
         FROM (${messagesIn('sent_at >= {from:DateTime64(3)} AND sent_at < {to:DateTime64(3)}')})
         WHERE first_sent_at >= {from:DateTime64(3)} AND first_sent_at < {to:DateTime64(3)}
         GROUP BY key ORDER BY key LIMIT 2000`,
        { from: chParam(window.from), to: chParam(window.to) },
      );
      return rows.map(toDeliveryRow);
    },

    async costs(window: Window, groupBy: CostGroup): Promise<CostRow[]> {
      const source =
        groupBy === 'campaign'
          ? `(SELECT c.*, j.job_campaign AS campaign_id FROM ${db}.charges AS c FINAL
              LEFT JOIN (SELECT job_id, max(campaign_id) AS job_campaign FROM ${db}.send_attempts WHERE campaign_id != '' GROUP BY job_id) AS j
              ON c.job_id = j.job_id
              WHERE c.priced_at >= {from:DateTime64(3)} AND c.priced_at < {to:DateTime64(3)})`
          : `${db}.charges FINAL`;
      const rows = await store.query<Record<string, unknown>>(
        `SELECT ${COST_KEY[groupBy]} AS key, ${costColumns} FROM ${source}
         WHERE priced_at >= {from:DateTime64(3)} AND priced_at < {to:DateTime64(3)}
         GROUP BY key ORDER BY key LIMIT 2000`,
        { from: chParam(window.from), to: chParam(window.to) },
      );
      return rows.map(toCostRow);
    },

    async campaign(id: string) {
      const [jobs] = await store.query<Record<string, unknown>>(
        `SELECT uniqExact(job_id) AS requested, min(requested_at) AS first_requested_at, max(occurred_at) AS last_activity_at
         FROM ${db}.send_attempts WHERE campaign_id = {id:String}`,
        { id },
      );
      const [funnel] = await store.query<Record<string, unknown>>(`SELECT 'all' AS key, ${funnelColumns} FROM (${messagesIn('campaign_id = {id:String}')})`, { id });
      const failures = await store.query<Record<string, unknown>>(
        `SELECT stage, outcome, error_code, reason, sum(failures) AS failures FROM (
           SELECT 'dispatch' AS stage, toString(outcome) AS outcome, error_code, reason, uniqExact(job_id) AS failures
           FROM ${db}.send_attempts FINAL WHERE campaign_id = {id:String} AND outcome IN ('failed', 'rejected', 'expired', 'unknown', 'cancelled')
           GROUP BY stage, outcome, error_code, reason
           UNION ALL
           SELECT 'webhook' AS stage, 'failed' AS outcome, fail_code AS error_code, fail_reason AS reason, count() AS failures
           FROM (${messagesIn('campaign_id = {id:String}')}) WHERE state_rank = 4 GROUP BY stage, outcome, error_code, reason)
         GROUP BY stage, outcome, error_code, reason ORDER BY failures DESC, error_code`,
        { id },
      );
      const [cost] = await store.query<Record<string, unknown>>(
        `SELECT 'all' AS key, ${costColumns} FROM ${db}.charges FINAL
         WHERE job_id IN (SELECT job_id FROM ${db}.send_attempts WHERE campaign_id = {id:String})`,
        { id },
      );
      const requested = num(jobs?.requested);
      if (requested === 0 && num(funnel?.messages) === 0) return null;
      return {
        campaignId: id,
        requested,
        funnel: toDeliveryRow(funnel ?? { key: 'all' }),
        failuresByReason: failures.map((f) => ({ stage: String(f.stage), outcome: String(f.outcome), errorCode: num(f.error_code), reason: String(f.reason), count: num(f.failures) })),
        cost: toCostRow(cost ?? { key: 'all' }),
      };
    },

    /** Events per minute over the last `minutes`, from the raw tables (counted once per event id). */
    async throughput(minutes: number) {
      const rows = await store.query<Record<string, unknown>>(
        `SELECT t, sum(sent) AS sent, sum(dispatch_failed) AS dispatch_failed, sum(delivered) AS delivered, sum(read) AS read, sum(failed) AS failed FROM (
           SELECT toStartOfMinute(occurred_at) AS t, uniqExactIf(event_id, outcome = 'sent') AS sent,
                  uniqExactIf(event_id, outcome IN ('failed', 'rejected', 'expired', 'unknown')) AS dispatch_failed, 0 AS delivered, 0 AS read, 0 AS failed
           FROM ${db}.send_attempts WHERE occurred_at >= now64(3) - toIntervalMinute({m:UInt32}) GROUP BY t
           UNION ALL
           SELECT toStartOfMinute(status_at) AS t, 0, 0, uniqExactIf(event_id, status = 'delivered'), uniqExactIf(event_id, status = 'read'), uniqExactIf(event_id, status = 'failed')
           FROM ${db}.status_events WHERE status_at >= now64(3) - toIntervalMinute({m:UInt32}) GROUP BY t)
         GROUP BY t ORDER BY t`,
        { m: minutes },
      );
      return rows.map((r) => ({ t: String(r.t), sent: num(r.sent), dispatchFailed: num(r.dispatch_failed), delivered: num(r.delivered), read: num(r.read), failed: num(r.failed) }));
    },

    async recentCampaigns(limit: number) {
      const rows = await store.query<Record<string, unknown>>(
        `SELECT campaign_id, uniqExact(job_id) AS requested, max(occurred_at) AS last_activity_at
         FROM ${db}.send_attempts WHERE campaign_id != '' GROUP BY campaign_id ORDER BY last_activity_at DESC LIMIT {n:UInt32}`,
        { n: limit },
      );
      return rows.map((r) => ({ campaignId: String(r.campaign_id), requested: num(r.requested), lastActivityAt: String(r.last_activity_at) }));
    },

    /** Delivery rate of messages sent within the last `seconds`; null when nothing resolved yet. */
    async deliveryRateSince(seconds: number): Promise<number | null> {
      const [row] = await store.query<Record<string, unknown>>(
        `SELECT ${funnelColumns} FROM (${messagesIn('sent_at >= now64(3) - toIntervalSecond({s:UInt32})')})`,
        { s: seconds },
      );
      return row ? toDeliveryRow({ key: 'all', ...row }).deliveryRate : null;
    },

    async spendByCategoryCountry(): Promise<{ category: string; country: string; spendMicros: number }[]> {
      const rows = await store.query<Record<string, unknown>>(`SELECT category, country, sum(cost_micros) AS spend_micros FROM ${db}.charges FINAL GROUP BY category, country`);
      return rows.map((r) => ({ category: String(r.category), country: String(r.country), spendMicros: num(r.spend_micros) }));
    },
  };
}
export type AnalyticsQueries = ReturnType<typeof createAnalyticsQueries>;
