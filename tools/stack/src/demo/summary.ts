import type { DemoResult } from './run-demo';

/** The end-of-demo summary: delivery rate, failures by reason, cost by category and country. */
export function formatSummary(result: DemoResult): string {
  const s = result.snapshot;
  const { summary } = result;
  const resolved = s.delivered + s.failed;
  const money = (usd: number) => `$${usd.toFixed(4)}`;
  const lines = [
    '',
    '── summary ──────────────────────────────────────────────',
    `  requested ${result.requested}, accepted by Meta ${s.sent}, delivered ${s.delivered} (read ${s.read}), failed after acceptance ${s.failed}, refused before sending ${s.rejected}`,
    `  delivery rate: ${resolved > 0 ? ((s.delivered / resolved) * 100).toFixed(2) : '-'}% of messages with a final status` +
      (summary.deliveryRate === null ? '' : ` (analytics, last 24 h: ${(summary.deliveryRate * 100).toFixed(2)}%)`),
    '  failures by reason:',
    ...(summary.failuresByReason.length === 0 ? ['    none'] : summary.failuresByReason.map(([reason, n]) => `    ${String(n).padStart(6)}  ${reason}`)),
    '  cost by category:',
    ...summary.costByCategory.map((r) => `    ${r.key.padEnd(28)} ${String(r.units).padStart(7)} billable  ${money(r.usd)}`),
    '  cost by country:',
    ...summary.costByCountry.map((r) => `    ${r.key.padEnd(28)} ${String(r.units).padStart(7)} billable  ${money(r.usd)}`),
    `  total spend: ${money(summary.costByCategory.reduce((n, r) => n + r.usd, 0))} (sample rate card — load Meta's card for real figures)`,
    `  simulator ground truth: accepted ${summary.simulator.accepted}, duplicate sends ${summary.simulator.duplicateSends}, refused by code ${JSON.stringify(summary.simulator.rejectedByCode)}, failed by code ${JSON.stringify(summary.simulator.failedByCode)}`,
  ];
  return lines.join('\n');
}
