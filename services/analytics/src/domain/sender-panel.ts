/**
 * The dashboard's per-sender panel, assembled from what analytics records: sends per number
 * (send_attempts) and Meta's account webhooks (account_events). Values analytics never received are
 * null, so the page says "not reported" instead of guessing.
 */
export interface SenderSendStats {
  sender: string;
  wabaId: string;
  sentLastMinute: number;
  throttled130429: number;
  pairLimited131056: number;
  recipients24h: number;
}

export interface AccountEventRow {
  kind: string;
  event: string;
  wabaId: string;
  phoneNumberId: string;
  /** Meta's phone_number_quality_update names a number only by this; '' when absent. */
  displayPhoneNumber?: string;
  messagingLimit: number | null;
  throughputMps: number | null;
  value: string;
  occurredAt: string;
}

export interface SenderPanelRow {
  sender: string;
  wabaId: string;
  achievedMps: number;
  allowedMps: number | null;
  quality: string | null;
  messagingLimit: number | null;
  recipients24h: number;
  portfolioRecipients24h: number;
  limitUse: number | null;
  throttled130429: number;
  pairLimited131056: number;
}

// Meta's quality events: FLAGGED means the rating went red, UNFLAGGED back to green; other events
// (UPGRADE, DOWNGRADE, ONBOARDING) move the limit and say nothing about the rating.
const QUALITY_BY_EVENT: Record<string, string> = { FLAGGED: 'RED', UNFLAGGED: 'GREEN' };
const QUALITY_VALUES = new Set(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']);

function qualityOf(row: AccountEventRow): string | undefined {
  try {
    const v = JSON.parse(row.value) as unknown;
    if (typeof v === 'object' && v !== null) {
      for (const field of ['quality', 'quality_rating', 'quality_score']) {
        const raw = (v as Record<string, unknown>)[field];
        const candidate = typeof raw === 'object' && raw !== null ? (raw as Record<string, unknown>).score : raw;
        if (typeof candidate === 'string' && QUALITY_VALUES.has(candidate.toUpperCase())) return candidate.toUpperCase();
      }
    }
  } catch {
    // A value that is not JSON carries no rating; the event name may still.
  }
  return QUALITY_BY_EVENT[row.event.toUpperCase()];
}

/** `account` must be newest first; the first value found for a number or account wins. */
export function senderPanel(
  sends: readonly SenderSendStats[],
  portfolioRecipients24h: ReadonlyMap<string, number>,
  account: readonly AccountEventRow[],
  windowSeconds = 60,
): SenderPanelRow[] {
  const quality = new Map<string, string>();
  const throughput = new Map<string, number>();
  const limit = new Map<string, number>();
  // Events the webhook service could not pair with an id name the number by display number only:
  // place them through the pairing other events of the same number carry.
  const idByDisplay = new Map<string, string>();
  for (const a of account) if (a.phoneNumberId && a.displayPhoneNumber) idByDisplay.set(a.displayPhoneNumber, a.phoneNumberId);
  for (const a of account) {
    if (a.kind !== 'phone_quality' && a.kind !== 'business_capability') continue;
    const id = a.phoneNumberId || (a.displayPhoneNumber ? (idByDisplay.get(a.displayPhoneNumber) ?? '') : '');
    const q = a.kind === 'phone_quality' && id ? qualityOf(a) : undefined;
    if (q !== undefined && !quality.has(id)) quality.set(id, q);
    if (a.throughputMps !== null && id && !throughput.has(id)) throughput.set(id, a.throughputMps);
    if (a.messagingLimit !== null && !limit.has(a.wabaId)) limit.set(a.wabaId, a.messagingLimit);
  }
  return sends.map((s) => {
    const messagingLimit = limit.get(s.wabaId) ?? null;
    const portfolio = portfolioRecipients24h.get(s.wabaId) ?? s.recipients24h;
    return {
      sender: s.sender,
      wabaId: s.wabaId,
      achievedMps: Math.round((s.sentLastMinute / windowSeconds) * 100) / 100,
      allowedMps: throughput.get(s.sender) ?? null,
      quality: quality.get(s.sender) ?? null,
      messagingLimit,
      recipients24h: s.recipients24h,
      portfolioRecipients24h: portfolio,
      // The limit is the account's (portfolio's), shared by its numbers: use is measured against all of them.
      limitUse: messagingLimit ? portfolio / messagingLimit : null,
      throttled130429: s.throttled130429,
      pairLimited131056: s.pairLimited131056,
    };
  });
}
