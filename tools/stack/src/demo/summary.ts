import type { DemoResult } from './run-demo';

const n = (v: number) => v.toLocaleString('en-US');

/** The end-of-demo summary: every requested recipient accounted for, then reasons, cost and the simulator's ground truth. */
export function formatSummary(result: DemoResult): string {
  const s = result.snapshot;
  const { summary } = result;
  const money = (usd: number) => `$${usd.toFixed(4)}`;
  const parts: Array<[string, number]> = [
    ['duplicates', s.duplicates],
    ['invalid', s.invalid],
    ['refused by us', s.refusedByUs],
    ['accepted by Meta', s.acceptedByMeta],
    ['refused by Meta', s.refusedByMeta],
    ['unknown', s.unknown],
    ['pending', s.pending],
  ];
  const sum = parts.reduce((a, [, v]) => a + v, 0);
  const reasons = (title: string, rows: Array<[string, number]>) =>
    rows.length === 0 ? [] : [`  ${title}:`, ...rows.map(([r, c]) => `    ${n(c).padStart(8)}  ${r}`)];
  const resolved = s.delivered + s.failedAfterAcceptance;
  const totalUsd = summary.costByCategory.reduce((a, r) => a + r.usd, 0);
  const unpriced = summary.costByCategory.reduce((a, r) => a + r.unpriced, 0);
  const throttled = Number(summary.simulator.rejectedByCode['130429'] ?? 0);
  return [
    '',
    `── summary — scope: ${s.scope} ──`,
    `  requested ${n(s.requested)} = ${parts.map(([l, v]) => `${l} ${n(v)}`).join(' + ')}` +
      (sum === s.requested ? '  (adds up)' : `  (= ${n(sum)}: does NOT add up)`),
    ...reasons('invalid, by reason', summary.reasons.invalid),
    ...reasons('refused by us, by reason', summary.reasons.refusedByUs),
    ...reasons('refused by Meta, by reason', summary.reasons.refusedByMeta),
    `  of the ${n(s.acceptedByMeta)} accepted by Meta: delivered ${n(s.delivered)} (read ${n(s.read)}), failed after acceptance ${n(s.failedAfterAcceptance)}, awaiting a final status ${n(s.awaitingStatus)}`,
    ...reasons('failed after acceptance, by reason', summary.reasons.failedAfterAcceptance),
    `  delivery rate: ${resolved > 0 ? ((s.delivered / resolved) * 100).toFixed(2) : '-'}% of accepted messages with a final status`,
    '  cost by category (this run):',
    ...summary.costByCategory.map((r) => `    ${r.key.padEnd(28)} ${n(r.units).padStart(8)} billable  ${money(r.usd)}`),
    '  cost by country (this run):',
    ...summary.costByCountry.map((r) => `    ${r.key.padEnd(28)} ${n(r.units).padStart(8)} billable  ${money(r.usd)}`),
    `  total spend (this run): ${money(totalUsd)}${unpriced > 0 ? ` — ${n(unpriced)} units unpriced (no rate card row for them)` : ''} (sample rate card — load Meta's card for real figures)`,
    `  simulator ground truth: accepted ${n(summary.simulator.accepted)}${summary.simulator.accepted === s.acceptedByMeta ? ' (= accepted by Meta above)' : ` (accepted by Meta above: ${n(s.acceptedByMeta)})`}, duplicate sends ${summary.simulator.duplicateSends}, 130429 ${throttled}, refused by code ${JSON.stringify(summary.simulator.rejectedByCode)}, failed by code ${JSON.stringify(summary.simulator.failedByCode)}`,
  ].join('\n');
}
