import type { CampaignView } from '@wa/cli/campaign-view';

/**
 * One reading of the demo, as the progress display shows it: the demo's campaigns summed (the
 * records `wa-broadcast status` shows), so every requested recipient is in exactly one line:
 * requested = duplicates + invalid + refused by us + accepted by Meta + refused by Meta + unknown + pending.
 */
export interface DemoSnapshot {
  elapsedMs: number;
  /** What the figures cover (this run's campaigns and OTPs), said on screen. */
  scope: string;
  expanded: boolean;
  requested: number;
  duplicates: number;
  invalid: number;
  refusedByUs: number;
  acceptedByMeta: number;
  refusedByMeta: number;
  unknown: number;
  pending: number;
  /** Of the accepted: delivered (incl. read), read, failed after acceptance, still without a final status (analytics). */
  delivered: number;
  read: number;
  failedAfterAcceptance: number;
  awaitingStatus: number;
  /** Per number: achieved msg/s (Meta's count), the dispatcher's paced target and the number's limit (Meta's, or the catalogue's lower ceiling). */
  senders: Array<{ id: string; label: string; rate: number; target: number | null; limit: number }>;
  /** 130429 answers the simulator gave (ground truth; should stay 0). */
  throttled: number;
  spendUsd: number | null;
}

type Totals = Omit<DemoSnapshot, 'elapsedMs' | 'scope' | 'senders' | 'throttled'>;

/** Sums the campaigns' records and analytics funnels; a campaign not registered yet counts as not expanded. */
export function sumViews(views: ReadonlyArray<CampaignView | null>): Totals {
  const t: Totals = {
    expanded: true,
    requested: 0,
    duplicates: 0,
    invalid: 0,
    refusedByUs: 0,
    acceptedByMeta: 0,
    refusedByMeta: 0,
    unknown: 0,
    pending: 0,
    delivered: 0,
    read: 0,
    failedAfterAcceptance: 0,
    awaitingStatus: 0,
    spendUsd: 0,
  };
  for (const v of views) {
    if (!v) {
      t.expanded = false;
      continue;
    }
    const c = v.campaign;
    t.expanded &&= c.expanded;
    t.requested += c.requested;
    t.duplicates += c.duplicates;
    t.invalid += c.invalid;
    t.refusedByUs += c.refusedByUs;
    t.acceptedByMeta += c.acceptedByMeta;
    t.refusedByMeta += c.refusedByMeta;
    t.unknown += c.unknown;
    t.pending += c.pending;
    const delivered = v.analytics?.funnel.delivered ?? 0;
    const failed = v.analytics?.funnel.failed ?? 0;
    t.delivered += delivered;
    t.read += v.analytics?.funnel.read ?? 0;
    t.failedAfterAcceptance += failed;
    t.awaitingStatus += Math.max(0, c.acceptedByMeta - delivered - failed);
    if (t.spendUsd !== null) t.spendUsd = v.analytics ? t.spendUsd + Number(v.analytics.cost.spendUsd) : c.acceptedByMeta > 0 ? null : t.spendUsd;
  }
  return t;
}

const BAR_WIDTH = 30;

function bar(value: number, total: number, width = BAR_WIDTH): string {
  const filled = total > 0 ? Math.max(0, Math.min(width, Math.round((value / total) * width))) : 0;
  return `${'█'.repeat(filled)}${'░'.repeat(width - filled)}`;
}

const n = (v: number) => v.toLocaleString('en-US');

/** Renders a snapshot as terminal lines (pure: the caller decides where and how often to draw). */
export function renderProgress(s: DemoSnapshot): string[] {
  const row = (label: string, value: number, note = '') => `  ${label.padEnd(26)} ${bar(value, s.requested)} ${n(value).padStart(8)}${note ? `  ${note}` : ''}`;
  return [
    `wa-broadcast demo — ${(s.elapsedMs / 1000).toFixed(0)} s — scope: ${s.scope}`,
    row('requested', s.requested, s.expanded ? '' : '(audiences still being read)'),
    row('  duplicates removed', s.duplicates),
    row('  invalid (dead-lettered)', s.invalid),
    row('  refused by us (gates)', s.refusedByUs),
    row(
      '  accepted by Meta',
      s.acceptedByMeta,
      `delivered ${n(s.delivered)} (read ${n(s.read)}), failed after ${n(s.failedAfterAcceptance)}, awaiting status ${n(s.awaitingStatus)}`,
    ),
    row('  refused by Meta', s.refusedByMeta),
    row('  outcome unknown', s.unknown),
    row('  pending', s.pending),
    `  sender throughput, msg/s: achieved (Meta's count) / paced target / limit — 130429 so far: ${n(s.throttled)}`,
    ...s.senders.map(
      (x) =>
        `    ${x.label.padEnd(16)} ${x.rate.toFixed(0).padStart(5)} / ${x.target === null ? '   ?' : x.target.toFixed(0).padStart(4)} / ${String(x.limit).padEnd(5)} ${bar(x.rate, x.limit, 20)}`,
    ),
    `  estimated spend (this run): ${s.spendUsd === null ? 'n/a' : `$${s.spendUsd.toFixed(4)}`}`,
  ];
}
