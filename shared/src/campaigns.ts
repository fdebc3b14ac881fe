import type { Redis } from 'ioredis';

/**
 * A campaign's record in Redis: one hash per campaign id, written by ingest (the audience it read:
 * rows, invalid, duplicates, jobs) and by the dispatcher (the operator's state and the outcome of
 * each job), read by the dispatcher's admin API, the CLI and the dashboard. One record, so every
 * view counts the same recipients the same way.
 *
 * Fields: `created` (epoch ms), `req:<requestKey>` = queued|done (expansion of each request),
 * `audience` / `invalid` / `duplicates` / `jobs` (ingest), `state` = paused|cancelled (absent:
 * active), `o:<outcome>` (dispatcher: sent, failed, meta_refused, rejected, expired, cancelled,
 * unknown; retry_scheduled is counted but not terminal), `first` / `last` (epoch ms of the first and
 * latest outcome: the rate behind the ETA).
 */
export const CAMPAIGN_TTL_SECONDS = 30 * 24 * 3600;

export function campaignKey(prefix: string, id: string): string {
  return `${prefix}wa:campaign:${id}`;
}

/** Pub/sub channel announcing a campaign's state change (message: the campaign id). */
export function campaignChangesChannel(prefix: string): string {
  return `${prefix}wa:campaign-changes`;
}

export type CampaignState = 'active' | 'paused' | 'cancelled';
export type CampaignPhase = CampaignState | 'done';

/** Outcomes that end a job, as counted in the record (`meta_refused`: Meta answered the send with an error). */
export const TERMINAL_CAMPAIGN_OUTCOMES = ['sent', 'meta_refused', 'failed', 'rejected', 'expired', 'cancelled', 'unknown'] as const;

export interface CampaignSummary {
  id: string;
  /** active / paused / cancelled as the operator set it, or done when every job has its outcome. */
  state: CampaignPhase;
  createdAt: string | null;
  /** Expansion finished for every request of the campaign. */
  expanded: boolean;
  /** Every recipient asked for: audience rows (and inline recipients), before validation and dedupe. */
  requested: number;
  invalid: number;
  duplicates: number;
  /** Messages to send after validation and dedupe (one per distinct valid recipient). */
  jobs: number;
  /** Refused by our own gates before any send: opt-out, window, template, limits, expiry, cancel, config. */
  refusedByUs: number;
  cancelled: number;
  /** Meta answered with a wamid (what happened after that is the analytics funnel). */
  acceptedByMeta: number;
  /** Meta answered the send with an error (after retries, where retriable). */
  refusedByMeta: number;
  /** Process died between the send and recording it: outcome cannot be known. */
  unknown: number;
  /** Jobs without an outcome yet (queued, paused, in retry). */
  pending: number;
  /** Share of jobs with their outcome, 0–1 (null before expansion produced any job). */
  progress: number | null;
  /** Outcomes per second between the first and the latest outcome. */
  ratePerSecond: number | null;
  /** Seconds until every job has its outcome at that rate; null when paused, done or unknown. */
  etaSeconds: number | null;
  outcomes: Record<string, number>;
}

const int = (v: string | undefined) => (v === undefined ? 0 : Number(v) || 0);

/** The summary of one campaign's record (pure). Null when there is no record. */
export function summariseCampaign(id: string, hash: Readonly<Record<string, string>>): CampaignSummary | null {
  if (Object.keys(hash).length === 0) return null;
  const outcomes: Record<string, number> = {};
  for (const [k, v] of Object.entries(hash)) if (k.startsWith('o:')) outcomes[k.slice(2)] = int(v);
  const requests = Object.entries(hash).filter(([k]) => k.startsWith('req:'));
  const expanded = requests.length > 0 && requests.every(([, v]) => v === 'done');
  const jobs = int(hash.jobs);
  const o = (name: string) => outcomes[name] ?? 0;
  const refusedByUs = o('failed') + o('rejected') + o('expired') + o('cancelled');
  const terminal = TERMINAL_CAMPAIGN_OUTCOMES.reduce((n, name) => n + o(name), 0);
  const pending = Math.max(0, jobs - terminal);
  const set = hash.state === 'paused' || hash.state === 'cancelled' ? hash.state : 'active';
  const state: CampaignPhase = set === 'active' && expanded && pending === 0 ? 'done' : set;
  const first = int(hash.first);
  const last = int(hash.last);
  const ratePerSecond = first > 0 && last > first ? terminal / ((last - first) / 1000) : null;
  const etaSeconds = state === 'active' && ratePerSecond && pending > 0 ? Math.ceil(pending / ratePerSecond) : null;
  return {
    id,
    state,
    createdAt: hash.created ? new Date(int(hash.created)).toISOString() : null,
    expanded,
    requested: int(hash.audience),
    invalid: int(hash.invalid),
    duplicates: int(hash.duplicates),
    jobs,
    refusedByUs,
    cancelled: o('cancelled'),
    acceptedByMeta: o('sent'),
    refusedByMeta: o('meta_refused'),
    unknown: o('unknown'),
    pending,
    progress: jobs > 0 ? Math.min(1, terminal / jobs) : null,
    ratePerSecond,
    etaSeconds,
    outcomes,
  };
}

export async function readCampaign(redis: Redis, prefix: string, id: string): Promise<CampaignSummary | null> {
  return summariseCampaign(id, await redis.hgetall(campaignKey(prefix, id)));
}

/** What ingest adds to a campaign's record for a slice of its audience. */
export interface AudienceDelta {
  audience: number;
  invalid: number;
  duplicates: number;
  jobs: number;
}

/** Appends the commands that add an audience slice to a MULTI/pipeline (atomic with ingest's checkpoint). */
export function addAudience(chain: ReturnType<Redis['multi']>, prefix: string, id: string, delta: AudienceDelta): void {
  const key = campaignKey(prefix, id);
  for (const [field, n] of Object.entries(delta)) if (n > 0) chain.hincrby(key, field, n);
  chain.expire(key, CAMPAIGN_TTL_SECONDS);
}

/** Registers a request of the campaign (idempotent): the campaign exists from here on. */
export function registerRequest(
  chain: ReturnType<Redis['multi']>,
  prefix: string,
  id: string,
  requestKey: string,
  nowMs: number,
  status: 'queued' | 'done',
): void {
  const key = campaignKey(prefix, id);
  chain.hsetnx(key, 'created', nowMs);
  if (status === 'done') chain.hset(key, `req:${requestKey}`, 'done');
  else chain.hsetnx(key, `req:${requestKey}`, 'queued');
  chain.expire(key, CAMPAIGN_TTL_SECONDS);
}
