import type { Logger } from 'pino';
import { num, type ClickHouseStore } from './clickhouse-store';

/** What a flushed batch touched; the refresher recomputes exactly these roll-up days. */
export type RollupKind = 'spend' | 'delivery' | 'delivery_status' | 'failures' | 'components';

/** The roll-ups a refresh recomputes per day ('delivery_status' only points at delivery days). */
export const ROLLUP_TABLE_KINDS = ['spend', 'delivery', 'failures', 'components'] as const;
type RollupTableKind = (typeof ROLLUP_TABLE_KINDS)[number];

const FAILED_OUTCOMES = `('failed', 'rejected', 'expired', 'unknown', 'cancelled')`;

/**
 * Recomputes dirty roll-up days from the de-duplicated base tables and swaps each day in with
 * `REPLACE PARTITION` (atomic: readers see the old or the new day, never half). A day is dirty when
 * a mark newer than its last completed refresh exists; the refresh records the time it *started*,
 * so marks written while it runs keep the day dirty for the next round. Run by one replica
 * (ANALYTICS_ROLLUPS=true); the staging tables are not shared safely between concurrent refreshers.
 */
export interface RollupObserver {
  /** A refresh that started at `startedAtMs` (local clock) recomputed `days` days in `seconds`. */
  refreshed(r: { startedAtMs: number; seconds: number; days: number }): void;
}

export function createRollups(store: ClickHouseStore, logger: Logger, observer?: RollupObserver) {
  const db = store.database;
  let queue: Promise<unknown> = Promise.resolve();

  const dayParam = (day: string) => ({ d: day });
  const partitionId = (day: string) => day.replaceAll('-', '');

  async function swapIn(table: string, day: string, fill: string): Promise<void> {
    const id = partitionId(day);
    await store.command(`ALTER TABLE ${db}.${table}_staging DROP PARTITION ID '${id}'`);
    await store.command(fill, dayParam(day));
    const [staged] = await store.query<{ n: unknown }>(`SELECT count() AS n FROM ${db}.${table}_staging WHERE _partition_id = {id:String}`, { id });
    // Recent servers refuse REPLACE PARTITION from an empty source; an empty day is a DROP.
    if (num(staged?.n) === 0) await store.command(`ALTER TABLE ${db}.${table} DROP PARTITION ID '${id}'`);
    else await store.command(`ALTER TABLE ${db}.${table} REPLACE PARTITION ID '${id}' FROM ${db}.${table}_staging`);
    await store.command(`ALTER TABLE ${db}.${table}_staging DROP PARTITION ID '${id}'`);
  }

  // A plain hash join: the default since ClickHouse 24.12 ('direct,parallel_hash,hash') picks parallel_hash, 3× as
  // slow here (175 against 61 ms for a 57,000-charge day on 2 cores, chdb 26.7); both hold the day's jobs in memory.
  const spend = (day: string) =>
    swapIn(
      'spend_daily',
      day,
      // Campaign, template and message type come from the job's accepted send (the fallback template
      // when the gate used it); a charge without a known job is of type 'unknown'.
      `INSERT INTO ${db}.spend_daily_staging (day, country, category, pricing_model, sender, campaign_id, template, message_type, free_type, rate_effective_from, rate_micros, billable_units, free_units, unpriced_units, spend_micros)
       SELECT toDate(c.priced_at) AS day, c.country, c.category, c.pricing_model, c.phone_number_id, j.job_campaign, j.job_template,
              if(j.job_message_type = '', 'unknown', j.job_message_type), c.free_type, c.rate_effective_from, c.rate_micros,
              countIf(c.billable = 1), countIf(c.billable = 0), countIf(c.unpriced = 1), sum(c.cost_micros)
       FROM (SELECT * FROM ${db}.charges FINAL WHERE toDate(priced_at) = {d:Date}) AS c
       LEFT JOIN (
         SELECT job_id, max(campaign_id) AS job_campaign, toString(maxIf(template, outcome = 'sent')) AS job_template,
                toString(maxIf(message_type, outcome = 'sent')) AS job_message_type
         FROM ${db}.send_attempts
         WHERE job_id IN (SELECT job_id FROM ${db}.charges WHERE toDate(priced_at) = {d:Date})
         GROUP BY job_id
       ) AS j ON c.job_id = j.job_id
       GROUP BY day, c.country, c.category, c.pricing_model, c.phone_number_id, j.job_campaign, j.job_template, j.job_message_type, c.free_type, c.rate_effective_from, c.rate_micros
       SETTINGS join_algorithm = 'hash'`,
    );

  const delivery = (day: string) =>
    swapIn(
      'delivery_hourly',
      day,
      `INSERT INTO ${db}.delivery_hourly_staging (hour, campaign_id, template, country, sender, category, messages, delivered, read, failed, pending)
       SELECT toStartOfHour(first_sent_at) AS hour, campaign_id, template, country, sender, category,
              count(), countIf(state_rank IN (2, 3)), countIf(state_rank = 3), countIf(state_rank = 4), countIf(state_rank = 1)
       FROM (
         SELECT msg_key, max(campaign_id) AS campaign_id, max(template) AS template, max(category) AS category, max(sender) AS sender,
                max(country) AS country, max(rank) AS state_rank, min(sent_at) AS first_sent_at
         FROM ${db}.message_state
         WHERE msg_key IN (
           SELECT cityHash64(wamid) FROM ${db}.send_attempts WHERE toDate(occurred_at) = {d:Date} AND outcome = 'sent' AND wamid != ''
           UNION ALL
           SELECT msg_key FROM ${db}.status_events WHERE toDate(status_at) = {d:Date} AND status = 'sent')
         GROUP BY msg_key)
       WHERE toDate(first_sent_at) = {d:Date}
       GROUP BY hour, campaign_id, template, country, sender, category`,
    );

  const failures = (day: string) =>
    swapIn(
      'failures_daily',
      day,
      `INSERT INTO ${db}.failures_daily_staging (day, stage, outcome, error_code, reason, campaign_id, failures)
       SELECT toDate(occurred_at) AS day, 'dispatch', toString(outcome), error_code, reason, campaign_id, count()
       FROM ${db}.send_attempts FINAL WHERE toDate(occurred_at) = {d:Date} AND outcome IN ${FAILED_OUTCOMES}
       GROUP BY day, outcome, error_code, reason, campaign_id
       UNION ALL
       SELECT toDate(failed_at) AS day, 'webhook', 'failed', fail_code, fail_reason, campaign_id, count()
       FROM (
         SELECT msg_key, max(campaign_id) AS campaign_id, max(rank) AS state_rank, min(failed_at) AS failed_at, max(fail_code) AS fail_code, max(fail_reason) AS fail_reason
         FROM ${db}.message_state
         WHERE msg_key IN (SELECT msg_key FROM ${db}.status_events WHERE toDate(status_at) = {d:Date} AND status = 'failed')
         GROUP BY msg_key)
       WHERE state_rank = 4 AND toDate(failed_at) = {d:Date}
       GROUP BY day, fail_code, fail_reason, campaign_id
       UNION ALL
       SELECT toDate(occurred_at) AS day, concat('dlq:', toString(service)), 'dead_letter', error_code, toString(reason), campaign_id, count()
       FROM ${db}.dead_letters FINAL WHERE toDate(occurred_at) = {d:Date}
       GROUP BY day, service, error_code, reason, campaign_id`,
    );

  const components = (day: string) =>
    swapIn(
      'components_daily',
      day,
      `INSERT INTO ${db}.components_daily_staging (day, type, template, component, messages)
       SELECT toDate(occurred_at) AS day, if(empty(message_type), 'unknown', toString(message_type)) AS type, template,
              arrayJoin(if(empty(components), [''], components)) AS component, count()
       FROM ${db}.send_attempts FINAL WHERE toDate(occurred_at) = {d:Date} AND outcome = 'sent'
       GROUP BY day, type, template, component`,
    );

  /** Statuses on day S can change messages sent on earlier days: find those send days. */
  async function sendDaysOfStatusDay(day: string): Promise<string[]> {
    const rows = await store.query<{ d: string }>(
      `SELECT DISTINCT toString(toDate(first_sent_at)) AS d FROM (
         SELECT min(sent_at) AS first_sent_at FROM ${db}.message_state
         WHERE msg_key IN (SELECT msg_key FROM ${db}.status_events WHERE toDate(status_at) = {d:Date})
         GROUP BY msg_key)
       WHERE first_sent_at IS NOT NULL`,
      dayParam(day),
    );
    return rows.map((r) => r.d);
  }

  async function refreshOnce(): Promise<number> {
    const [clock] = await store.query<{ now: string }>(`SELECT toString(now64(3)) AS now`);
    const startedAt = clock!.now;
    const dirty = await store.query<{ kind: RollupKind; day: string }>(
      `SELECT d.kind AS kind, toString(d.day) AS day
       FROM (SELECT kind, day, max(marked_at) AS marked FROM ${db}.rollup_dirty GROUP BY kind, day) AS d
       LEFT JOIN (SELECT kind, day, max(done_at) AS done FROM ${db}.rollup_done GROUP BY kind, day) AS x ON d.kind = x.kind AND d.day = x.day
       WHERE d.marked > x.done
       ORDER BY kind, day`,
    );
    if (dirty.length === 0) return 0;
    const todo = new Map<RollupKind, Set<string>>(ROLLUP_TABLE_KINDS.map((kind) => [kind, new Set<string>()]));
    for (const { kind, day } of dirty) {
      if (kind === 'delivery_status') for (const d of await sendDaysOfStatusDay(day)) todo.get('delivery')!.add(d);
      else todo.get(kind)?.add(day);
    }
    // Typed by the list, so a kind added to it without its refresh does not compile.
    const run: Record<RollupTableKind, (day: string) => Promise<void>> = { spend, delivery, failures, components };
    let days = 0;
    for (const [kind, set] of todo) {
      for (const day of [...set].sort()) {
        await run[kind as RollupTableKind](day);
        days += 1;
      }
    }
    await store.insertRows(
      'rollup_done',
      dirty.map((d) => ({ kind: d.kind, day: d.day, done_at: startedAt })),
    );
    return days;
  }

  return {
    /** Recomputes every day dirty at the time of the call (runs are serialised). Resolves with the days recomputed. */
    refresh(): Promise<number> {
      const run = queue.then(async () => {
        const startedAtMs = Date.now();
        const t0 = performance.now();
        const days = await refreshOnce();
        observer?.refreshed({ startedAtMs, seconds: (performance.now() - t0) / 1000, days });
        return days;
      });
      queue = run.catch(() => undefined);
      return run;
    },
    /** Resolves when no refresh is running (shutdown waits for it before closing ClickHouse). */
    idle(): Promise<unknown> {
      return queue;
    },
    /** Days waiting for a refresh (for readiness of figures in tests and the benchmark). */
    async pending(): Promise<number> {
      const [row] = await store.query<{ n: unknown }>(
        `SELECT count() AS n FROM (SELECT kind, day, max(marked_at) AS marked FROM ${db}.rollup_dirty GROUP BY kind, day) AS d
         LEFT JOIN (SELECT kind, day, max(done_at) AS done FROM ${db}.rollup_done GROUP BY kind, day) AS x ON d.kind = x.kind AND d.day = x.day
         WHERE d.marked > x.done`,
      );
      return num(row?.n);
    },
    logger,
  };
}
export type Rollups = ReturnType<typeof createRollups>;
