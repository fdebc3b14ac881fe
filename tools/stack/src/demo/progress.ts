/**
 * One reading of the pipeline, as the progress display shows it. Counts are cumulative stages:
 * `sent` = accepted by Meta, `delivered` includes read, `failed` = failed after acceptance,
 * `rejected` = refused before or at sending (compliance, limits, errors).
 */
export interface ProgressSnapshot {
  elapsedMs: number;
  requested: number;
  sent: number;
  delivered: number;
  read: number;
  failed: number;
  rejected: number;
  senders: Array<{ id: string; label: string; rate: number; limit: number }>;
  spendUsd: number | null;
}

const BAR_WIDTH = 30;

function bar(value: number, total: number, width = BAR_WIDTH): string {
  const filled = total > 0 ? Math.max(0, Math.min(width, Math.round((value / total) * width))) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

function pct(value: number, total: number): string {
  return total > 0 ? `${((value / total) * 100).toFixed(1).padStart(5)}%` : '    -';
}

/** Renders a snapshot as terminal lines (pure: the caller decides where and how often to draw). */
export function renderProgress(s: ProgressSnapshot): string[] {
  const row = (label: string, value: number) => `  ${label.padEnd(10)} ${bar(value, s.requested)} ${String(value).padStart(7)} ${pct(value, s.requested)}`;
  const lines = [
    `wa-broadcast demo — ${(s.elapsedMs / 1000).toFixed(0)} s`,
    row('requested', s.requested),
    row('sent', s.sent),
    row('delivered', s.delivered),
    row('read', s.read),
    row('failed', s.failed),
    row('rejected', s.rejected),
    '  sender throughput (messages/s against the number\'s limit):',
    ...s.senders.map((n) => `    ${n.label.padEnd(24)} ${n.rate.toFixed(0).padStart(5)} / ${String(n.limit).padEnd(5)} ${bar(n.rate, n.limit, 20)}`),
    `  estimated spend: ${s.spendUsd === null ? 'n/a' : `$${s.spendUsd.toFixed(4)}`}`,
  ];
  return lines;
}
