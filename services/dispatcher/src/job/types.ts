import type { Logger } from 'pino';
import type { CatalogIndex } from '@wa/shared/catalog';
import type { DispatchJobV1, DispatchMessage } from '@wa/shared/contracts/dispatch-job';
import type { SentEventV1 } from '@wa/shared/contracts/sent-event';
import type { MessageShape } from '@wa/shared/message-shape';
import type { OutRecord } from '../adapters/kafka-producer';
import type { MarketingHoldQuality } from '../domain/quality-gate';
import type { SendRoom } from '../domain/send-room';
import type { DispatcherMetrics } from '../metrics';
import type { AccountState, CampaignControl, Clock, CloudApi, MessagingLimits, RateLimiter, SendLedger } from '../ports';

export interface HandleJobDeps {
  catalog: CatalogIndex;
  accessTokens: ReadonlyMap<string, string>;
  ledger: SendLedger;
  limiter: RateLimiter;
  /** Per-number admission into the send path (see domain/send-room.ts). */
  room: SendRoom;
  limits: MessagingLimits;
  account: AccountState;
  campaigns: CampaignControl;
  cloudApi: CloudApi;
  /** Campaign media uploaded once per campaign and sender (adapters/campaign-media.ts). */
  campaignMedia?: { resolve(campaignId: string, phoneNumberId: string, accessToken: string, message: DispatchMessage): Promise<DispatchMessage> };
  publish: (records: OutRecord[]) => Promise<void>;
  metrics: DispatcherMetrics;
  clock: Clock;
  logger: Logger;
  random: () => number;
  config: {
    topicPrefix: string;
    recipientHashSalt: string;
    optOutPolicy: 'marketing_only' | 'all';
    /** Quality rating at which marketing on a number is held (see domain/quality-gate). */
    marketingHoldQuality?: MarketingHoldQuality;
    unknownOutcomePolicy: 'record_unknown' | 'resend';
    campaignOverflowPolicy: 'spread' | 'refuse';
    retryMaxAttempts: number;
    retryBaseMs: number;
    retryMaxDelayMs: number;
    pairIntervalMs: number;
    /** How long to wait for a live replica's claim to resolve before deciding. */
    claimWaitMs: number;
  };
}

export interface JobSource {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer;
}

/**
 * The process-wide permit bounding jobs in their checks (Redis round trips). The handler takes it
 * once its number's send room admits the job and gives it back when the job starts waiting for its
 * send slot: from there the room and the pacing bound what follows. The consumer releases it in any
 * case when the job ends; both calls are idempotent.
 */
export interface JobConcurrency {
  acquire(): Promise<void>;
  release(): void;
}

/** What a job holds on its way to the send: the concurrency permit and its place in the number's send room. */
export interface JobPath {
  concurrency: JobConcurrency;
  leaveRoom: () => void;
}

/** One job being handled: the job, where it came from, and what is known of its sender so far. */
export interface JobContext {
  job: DispatchJobV1;
  src: JobSource;
  path: JobPath;
  phoneNumberId: string;
  wabaId: string | undefined;
  template?: string;
  /** Type and components of the message (analytics); the fallback template's once the gate picked it. */
  shape?: MessageShape;
  category: SentEventV1['category'];
}

/** Runs a job (again) from its ledger peek: a redelivery that raced a release, or a resend. */
export type RunJob = (job: DispatchJobV1, src: JobSource, path: JobPath) => Promise<void>;

/** How long a paused campaign's or account's job is held before it is looked at again. */
export const PAUSE_DEFER_MS = 60_000;
