import type { DemoResult } from './run-demo';

/** The end-of-demo summary: delivery rate, failures by reason, cost by category and country. */
export function formatSummary(result: DemoResult): string {
  const s = result.snapshot;
  const finished = s.delivered + s.read;
  const attempted = s.delivered + s.read + s.failed;
  const lines = [
    '',
    '── summary ──────────────────────────────────────────────',
    `  requested ${result.requested}, sent ${s.sent + s.delivered + s.read}, delivered ${finished}, read ${s.read}, failed ${s.failed}, refused before sending ${s.rejected}`,
    `  delivery rate: ${attempted > 0 ? ((finished / attempted) * 100).toFixed(2) : '-'}% of messages with a final status`,
  ];
  const { delivery, costs, simulator } = result.summary as Record<string, any>;
  if (delivery && !delivery.error) lines.push(`  delivery (analytics): ${JSON.stringify(delivery).slice(0, 600)}`);
  if (costs && !costs.error) lines.push(`  costs (analytics): ${JSON.stringify(costs).slice(0, 900)}`);
  if (simulator) lines.push(`  simulator ground truth: accepted ${simulator.accepted}, duplicate sends ${simulator.duplicateSends}, failed by code ${JSON.stringify(simulator.failedByCode)}, rejected by code ${JSON.stringify(simulator.rejectedByCode)}`);
  return lines.join('\n');
}
