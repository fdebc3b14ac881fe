import { createClickHouse } from '@wa/shared/clickhouse';

/** The finance views `wa-broadcast sql --view` exports (docs/finance.md). */
export const FINANCE_VIEWS = ['v_daily_spend', 'v_spend_detail', 'v_delivery_rate_hourly', 'v_failure_reasons', 'v_cost_projection_30d', 'v_messages'] as const;

export interface SqlTarget {
  clickhouseUrl: string | undefined;
  clickhousePath: string;
  database: string;
  username?: string | undefined;
  password?: string | undefined;
  /** The analytics service that may hold the embedded engine's directory. */
  analyticsUrl: string;
}

/** Only reads: the statement kinds the command runs, and what must not appear in them. */
export function readOnlyProblem(sql: string): string | undefined {
  const s = sql.trim().replace(/;\s*$/, '');
  if (!/^(SELECT|WITH|SHOW|DESCRIBE|DESC|EXPLAIN|EXISTS)\b/i.test(s)) return 'only SELECT, WITH, SHOW, DESCRIBE and EXPLAIN statements are run';
  if (s.includes(';')) return 'one statement at a time';
  if (/\bINTO\s+OUTFILE\b/i.test(s)) return 'INTO OUTFILE is not allowed (use --csv and redirect the output)';
  return undefined;
}

/**
 * Runs a read-only query against the configured ClickHouse and returns its text output (CSV with a
 * header, or a table). An embedded engine's directory can be held by one process only: while the
 * analytics service runs on it, the query is refused with what to do instead.
 */
export async function runSql(target: SqlTarget, sql: string, format: 'csv' | 'table'): Promise<string> {
  const problem = readOnlyProblem(sql);
  if (problem) throw new Error(problem);
  if (!target.clickhouseUrl) {
    const running = await fetch(`${target.analyticsUrl}/healthz`, { signal: AbortSignal.timeout(2_000) }).then(
      () => true,
      () => false,
    );
    if (running) {
      throw new Error(
        `the analytics service at ${target.analyticsUrl} holds the embedded ClickHouse directory ${target.clickhousePath}, and only one process may open it. ` +
          'Stop it (Ctrl-C on npm start) and run again, or run analytics against a ClickHouse server (CLICKHOUSE_URL; docs/finance.md).',
      );
    }
  }
  const ch = await createClickHouse({
    url: target.clickhouseUrl,
    path: target.clickhousePath,
    database: target.database,
    username: target.username,
    password: target.password,
  });
  try {
    const query = sql.trim().replace(/;\s*$/, '');
    const settings = target.clickhouseUrl ? { clickhouse_settings: { readonly: '1' as const } } : {};
    if (format === 'csv') return await (await ch.query({ query, format: 'CSVWithNames', ...settings })).text();
    return formatTable(await (await ch.query({ query, format: 'JSONEachRow', ...settings })).json<Record<string, unknown>>());
  } finally {
    await ch.close();
  }
}

/** Rows as an aligned text table (numbers right-aligned). */
export function formatTable(rows: readonly Record<string, unknown>[]): string {
  if (rows.length === 0) return '(no rows)\n';
  const columns = Object.keys(rows[0]!);
  const cells = rows.map((r) => columns.map((c) => (r[c] === null ? 'NULL' : typeof r[c] === 'object' ? JSON.stringify(r[c]) : String(r[c]))));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((row) => row[i]!.length)));
  const numeric = columns.map((_, i) => cells.every((row) => /^-?[\d.]+$/.test(row[i]!)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (numeric[i] ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return `${[line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n')}\n(${rows.length} row${rows.length === 1 ? '' : 's'})\n`;
}
