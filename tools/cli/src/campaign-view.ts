import type { CampaignSummary } from '@wa/shared/campaigns';

/** The part of analytics' `GET /v1/campaigns/:id` the views read (absent before the first event arrives). */
export interface CampaignAnalytics {
  funnel: { messages: number; delivered: number; read: number; failed: number; pending: number };
  failuresByReason: Array<{ stage: string; outcome: string; errorCode: number; reason: string; count: number }>;
  cost: { billableUnits: number; unpricedUnits: number; spendUsd: string };
}

/** One campaign as the CLI and the demo show it: the dispatcher's record and analytics' funnel. */
export interface CampaignView {
  campaign: CampaignSummary;
  analytics: CampaignAnalytics | null;
}

const n = (v: number) => v.toLocaleString('en-US');

export function progressBar(share: number, width = 30): string {
  const filled = Math.max(0, Math.min(width, Math.round(share * width)));
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

export function formatDuration(seconds: number): string {
  if (seconds < 60) return `${Math.round(seconds)} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${Math.round(seconds % 60)} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.round((seconds % 3600) / 60)} min`;
}

/** The progress line: bar, share, rate and ETA (or why there is none). */
export function progressLine(c: CampaignSummary): string {
  const done = c.jobs - c.pending;
  const share = c.progress ?? 0;
  const eta =
    c.state === 'paused'
      ? 'paused — `wa-broadcast resume` restarts sending within seconds'
      : c.state === 'done' || c.state === 'cancelled'
        ? c.state
        : c.etaSeconds !== null
          ? `ETA ${formatDuration(c.etaSeconds)}`
          : c.expanded
            ? 'ETA: waiting for the first outcomes'
            : 'expanding the audience';
  const rate = c.ratePerSecond === null ? '' : `  ${c.ratePerSecond.toFixed(0)} msg/s`;
  return `${progressBar(share)} ${(share * 100).toFixed(1).padStart(5)}%  ${n(done)} of ${n(c.jobs)} jobs have an outcome${rate}  ${eta}`;
}

/**
 * The campaign as a table: every requested recipient accounted for, once —
 * requested = duplicates + invalid + refused by us + accepted by Meta + refused by Meta + unknown + pending.
 */
export function renderCampaign(view: CampaignView): string[] {
  const { campaign: c, analytics: a } = view;
  const row = (label: string, value: number, note = '') => `  ${label.padEnd(34)} ${n(value).padStart(10)}${note ? `  ${note}` : ''}`;
  type Failure = CampaignAnalytics['failuresByReason'][number];
  const reasons = (which: (f: Failure) => boolean) =>
    (a?.failuresByReason ?? []).filter(which).map((f) => `        ${n(f.count).padStart(8)}  ${f.reason}${f.errorCode ? ` (${f.errorCode})` : ''}`);
  const accepted = c.acceptedByMeta;
  const delivered = a?.funnel.delivered ?? 0;
  const failedAfter = a?.funnel.failed ?? 0;
  const lines = [
    `campaign ${c.id}   state: ${c.state.toUpperCase()}   created ${c.createdAt ?? '?'}${c.expanded ? '' : '   (audience still being read)'}`,
    `  ${progressLine(c)}`,
    '',
    `  scope: this campaign, all of its requests (the dispatcher's campaign record and analytics for campaign_id = ${c.id})`,
    row('requested (audience rows)', c.requested),
    row('  duplicates removed', c.duplicates),
    row('  invalid (dead-lettered)', c.invalid, c.invalid > 0 ? '`wa-broadcast dlq tail notifications`' : ''),
    ...reasons((f) => f.stage.startsWith('dlq:ingest')),
    row('  to send (jobs)', c.jobs),
    row('    refused by us (gates)', c.refusedByUs, c.cancelled > 0 ? `of which cancelled ${n(c.cancelled)}` : ''),
    ...reasons((f) => f.stage === 'dispatch' && f.outcome !== 'cancelled' && f.outcome !== 'unknown' && !(f.outcome === 'failed' && f.errorCode > 0)),
    row('    accepted by Meta', accepted),
    row('      delivered (incl. read)', delivered, a ? `read ${n(a.funnel.read)}` : 'analytics has no events yet'),
    row('      failed after acceptance', failedAfter),
    ...reasons((f) => f.stage === 'webhook'),
    row('      awaiting a final status', Math.max(0, accepted - delivered - failedAfter)),
    row('    refused by Meta', c.refusedByMeta),
    ...reasons((f) => f.stage === 'dispatch' && f.outcome === 'failed' && f.errorCode > 0),
    row('    outcome unknown (crash)', c.unknown),
    row('    pending (queued, paused, retry)', c.pending),
  ];
  if (a)
    lines.push(
      `  spend: $${a.cost.spendUsd} for ${n(a.cost.billableUnits)} billable units${a.cost.unpricedUnits > 0 ? ` (${n(a.cost.unpricedUnits)} unpriced: no rate card row)` : ''}`,
    );
  const accounted = c.duplicates + c.invalid + c.refusedByUs + accepted + c.refusedByMeta + c.unknown + c.pending;
  if (c.expanded && accounted !== c.requested)
    lines.push(`  note: ${n(accounted)} accounted for against ${n(c.requested)} requested (counts of a redelivered inline request or a coalesced job)`);
  return lines;
}
