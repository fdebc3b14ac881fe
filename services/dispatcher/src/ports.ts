import type { AccountStanding } from '@wa/shared/account-standing';
import type { Clock } from '@wa/shared/clock';
import type { TemplateLiveFacts } from './domain/live-template';
import type { CampaignSummary } from '@wa/shared/campaigns';
import type { PhoneState, Sourced } from './domain/sender-state';
import type { DispatchMessage } from '@wa/shared/contracts/dispatch-job';
import type { SentEventV1 } from '@wa/shared/contracts/sent-event';
import type { SendResult } from './domain/outcome';

export { systemClock, type Clock } from '@wa/shared/clock';

export interface SendRequest {
  phoneNumberId: string;
  accessToken: string;
  to: string;
  message: DispatchMessage;
  /** Echoed back in status webhooks: the job id. */
  callbackData: string;
  /** Called when the request's bytes are handed to the socket (they may leave after the call returns). */
  onWritten?: () => void;
}

export interface CloudApi {
  send(request: SendRequest): Promise<SendResult>;
  close(): Promise<void>;
}

/**
 * The ledger's view of a job. A 'done' entry carries its event while it may not have reached Kafka yet
 * (and for a while after); a 'retry' or 'done' entry read from the long-term store has no `at`.
 */
export type LedgerEntry =
  | { st: 'claimed'; a: number; owner: string; at: number }
  | { st: 'retry'; a: number; at?: number }
  | { st: 'done'; a: number; at?: number; event?: SentEventV1 };

export type ClaimResult = { claimed: true } | { claimed: false; existing: LedgerEntry };

/**
 * The send ledger turns Kafka's at-least-once into at-most-once toward Meta: a job is claimed
 * before the HTTP call and its outcome recorded after, so a redelivered job is recognised.
 */
export interface SendLedger {
  /** Claims attempt `attempt` of a job; succeeds when the job is new or its last state is a retry of an earlier attempt. */
  claim(jobId: string, attempt: number): Promise<ClaimResult>;
  /** The same claim, to be taken by the rate limiter atomically with the send admission. */
  claimRequest(jobId: string, attempt: number): LedgerClaim;
  /** Current state of a job, if the ledger knows it. */
  peek(jobId: string): Promise<LedgerEntry | undefined>;
  /** Claims and records a terminal outcome decided before any send (a refusal), atomically. `eventJson` is the event as produced. */
  claimDone(jobId: string, attempt: number, eventJson: string): Promise<ClaimResult>;
  /** Records a terminal outcome; the event (`eventJson`, as produced) is kept so a redelivery can re-announce it. */
  recordDone(jobId: string, attempt: number, eventJson: string): Promise<void>;
  /** Records that `attempt` failed and a retry record for `attempt + 1` is being produced. */
  recordRetry(jobId: string, attempt: number): Promise<void>;
  /** Gives a claim back without an attempt (the job was deferred before any send). */
  release(jobId: string, attempt: number): Promise<void>;
  /** The job's 'done' event is acknowledged by Kafka: the ledger need not keep it for long. */
  announced(jobId: string): void;
  /** Whether the process that holds a claim is still alive (its heartbeat key exists). */
  ownerAlive(owner: string): Promise<boolean>;
  readonly owner: string;
  /** A job must be admitted (claimRequest) within half of this after its last peek: the handler peeks again otherwise. */
  readonly recentMs: number;
}

/** A ledger claim in the form the limiter can take atomically with the send admission. */
export interface LedgerClaim {
  key: string;
  value: string;
  attempt: number;
  ttlMs: number;
  /** The job the key belongs to (a stored 'done' event leaves its jobId out). */
  jobId?: string;
}

export type Admission = { admitted: true; permit: SendPermit } | { admitted: false; existing: LedgerEntry };

/** Permits of a bounded resource (see domain/semaphore.ts). */
export interface Permits {
  tryAcquire(): boolean;
  acquire(): Promise<void>;
  release(): void;
}

export interface SendPermit {
  /** How long the send guard held the send (bunched slots). */
  heldMs: number;
  /**
   * The response is back (any outcome), or the send failed: lets the limiter place the send where Meta
   * probably counted it, and gives back the Graph API connection the admission took. Call it once.
   */
  answered(): void;
  /** The request went out now (later than the admission): the limiter counts it from now. */
  written(): void;
}

/** Pacing's time: a precise local clock (ms since the epoch) and timers on it. */
export interface Timers extends Clock {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}
export const systemTimers: Timers = {
  now: () => performance.timeOrigin + performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/**
 * The send guard's answer: admitted (ledger claim taken; `at`, when, on the local clock through Redis' clock
 * offset), held for `waitMs`, or a job the ledger already knows.
 */
export type GuardVerdict = { kind: 'admitted'; at?: number } | { kind: 'held'; waitMs: number } | { kind: 'known'; existing: LedgerEntry };

/**
 * A number's pacing state shared by every replica (Redis, on its own clock): GCRA slots and the send
 * guard's sliding window. Times in and out are on the local clock (Timers.now).
 */
export interface SendGuard {
  /**
   * Reserves `count` slots `intervalMs` apart on the number's timeline: resolves to the first one's time.
   * A late reservation may still take slots a little in the past (catch-up); an idle number gets no credit.
   */
  reserve(phoneNumberId: string, intervalMs: number, count: number): Promise<number>;
  /**
   * Admits one send (`member`) if fewer than `cap` sends are in the last `windowMs` and the last
   * admission is at least `gapMs` ago, taking the ledger claim in the same step.
   */
  admit(phoneNumberId: string, send: { member: string; windowMs: number; cap: number; gapMs: number; claim: LedgerClaim }): Promise<GuardVerdict>;
  /** Moves an admitted send later in the shared window, to `at` (never earlier). Best effort. */
  move(phoneNumberId: string, member: string, at: number): void;
}

export interface RateLimiter {
  /** Waits (without blocking the event loop) until this number may send one more message. Returns the wait in ms. */
  acquire(phoneNumberId: string, lane: 'auth' | 'utility' | 'marketing'): Promise<number>;
  /**
   * Right before a send: resolves when the number's sliding window (shared by all replicas) has room
   * for one more send, claiming the job in the send ledger in the same step (not admitted when the
   * ledger already knows the job); the caller sends synchronously afterwards, calls `written()` when
   * the request reaches its socket and `answered()` when the response is back. With a connection pool
   * configured, the admission also holds one of its connections until `answered()`, so an admitted
   * request never queues behind busy connections.
   */
  admit(phoneNumberId: string, claim: LedgerClaim): Promise<Admission>;
  /** A throttle answer from Meta to a send released at `sentAtMs`: slow this number down for a cool-down. */
  onThrottle(phoneNumberId: string, sentAtMs?: number): void;
  /** The rate the number is paced at now, and its limit (for metrics and GET /v1/senders). */
  rateOf(phoneNumberId: string): { targetMps: number; limitMps: number; factor: number; inboundMps: number; inboundHeld: boolean };
}

export type MessagingLimitResult = { allowed: true; newRecipient: boolean } | { allowed: false; used: number; limit: number; retryAfterMs: number };

/** The messaging limit's verdict (absent when the message does not count), then the pair limit's (absent when the messaging limit refused). */
export type RecipientAdmission = { messaging?: MessagingLimitResult; pair?: { allowed: boolean; retryAfterMs: number } };

export interface MessagingLimits {
  /**
   * One step before a job's send slot: with `messagingLimit` (a business-initiated message), counts `waId`
   * against the portfolio's rolling 24 h unique-recipient budget (refused: nothing more is counted); then the
   * per-recipient pair limit of this number, refused when the last messages to this person from it were too recent.
   */
  admitRecipient(a: { portfolioId: string; phoneNumberId: string; waId: string; messagingLimit?: { limit: number | null } }): Promise<RecipientAdmission>;
  /** Undoes the messaging-limit count of `admitRecipient` for a recipient that turned out not to be messaged (definite refusal before sending). */
  forget(portfolioId: string, waId: string): Promise<void>;
  used(portfolioId: string): Promise<number>;
  /** How many of `waIds` were not messaged in the window. */
  countNew(portfolioId: string, waIds: readonly string[]): Promise<number>;
}

export interface AccountState {
  /** The portfolio's current messaging limit (webhook-updated), null = unlimited. */
  messagingLimit(wabaId: string): number | null;
  /** The number's throughput limit in messages per second (webhook-updated). */
  throughputMps(phoneNumberId: string): number;
  quality(phoneNumberId: string): string | undefined;
  /** Throughput and quality with where each came from (catalogue, webhook, Graph API) and when. */
  phoneState?(phoneNumberId: string): PhoneState;
  messagingLimitState?(wabaId: string): Sourced<number | null>;
  templateStatus(wabaId: string, name: string, language: string): string | undefined;
  /** Status and re-categorisation webhooks of a template (see domain/live-template.ts). */
  templateFacts?(wabaId: string, name: string, language: string): TemplateLiveFacts;
  /** The template's quality score from message_template_quality_update, if Meta sent one. */
  templateQuality?(wabaId: string, name: string, language: string): { score: string; previous?: string; updatedAt: string } | undefined;
  /** Bans, restrictions, violations from account_update; undefined while in good standing. */
  standing?(wabaId: string): AccountStanding | undefined;
  /** Per-recipient facts written by the webhook service: opt-out and the last inbound message (service window). */
  recipient(phoneNumberId: string, wabaId: string, waId: string): Promise<{ optedOut: boolean; lastInboundMs: number | undefined }>;
  accountPaused(wabaId: string): boolean;
  pauseAccount(wabaId: string, reason: string): Promise<void>;
  resumeAccount(wabaId: string): Promise<void>;
}

export type CampaignState = 'active' | 'paused' | 'cancelled';

/** A pause/resume/cancel of a campaign ingest has never seen (a typo must not create state). */
export class UnknownCampaignError extends Error {
  constructor(readonly campaignId: string) {
    super('campaign_unknown');
  }
}

export interface CampaignControl {
  state(campaignId: string): Promise<CampaignState>;
  /** Throws UnknownCampaignError for a campaign ingest never registered, 'campaign_cancelled' to undo a cancel. */
  set(campaignId: string, state: CampaignState): Promise<void>;
  /** Counts a job's outcome in the campaign's record (`meta_refused` for a send Meta answered with an error). */
  count(campaignId: string, outcome: string): void;
  summary(campaignId: string): Promise<CampaignSummary | null>;
}
