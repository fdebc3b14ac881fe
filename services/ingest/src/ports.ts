import type { AudienceDelta } from '@wa/shared/campaigns';
import type { DeadLetterV1 } from '@wa/shared/contracts/dead-letter';
import type { DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import type { BufferedJob } from './domain/coalesce';

/** 'new': this submission claimed the key; 'owned': a replay of the submission that holds it; 'duplicate': another one holds it. */
export type ClaimResult = 'new' | 'owned' | 'duplicate';

export interface IdempotencyStore {
  /** Claims many keys at once; `owner` identifies the submission (Kafka coordinates or an HTTP claim id). */
  claim(items: readonly { key: string; owner: string }[]): Promise<ClaimResult[]>;
  /** Gives keys back when what they were claimed for could not be enqueued (only the owner's claim is removed). */
  release(items: readonly { key: string; owner: string }[]): Promise<void>;
}

export interface ExpansionStore {
  /** Where a broadcast's expansion stopped: the next audience index to read, or done. */
  checkpoint(requestKey: string): Promise<{ next: number; done: boolean } | null>;
  /** Saves where to resume, and adds the slice just expanded to its campaign's record in the same transaction. */
  saveCheckpoint(requestKey: string, next: number, campaign?: { id: string; delta: AudienceDelta }): Promise<void>;
  /**
   * For each (waId, index): true when this index is the first at which the person appears in the
   * broadcast (also true again for the same index after a resume), false for a later duplicate.
   */
  firstSeen(requestKey: string, items: readonly { waId: string; index: number }[]): Promise<boolean[]>;
  /** Marks the expansion done (also in its campaign's record) and drops its dedupe set. */
  finish(requestKey: string, campaignId?: string): Promise<void>;
  /**
   * Records a request of a campaign (the campaign exists from here on): `queued` for a broadcast
   * whose expansion follows, `done` with the counts of an inline request expanded at once.
   */
  registerCampaignRequest(campaignId: string, requestKey: string, nowMs: number, done?: AudienceDelta): Promise<void>;
}

export interface HeldRequest {
  kind: 'request';
  owner: string;
  receivedAtMs: number;
  valueBase64: string;
  source: DeadLetterV1['source'];
}
export interface HeldJobs {
  kind: 'jobs';
  jobs: DispatchJobV1[];
}

export type DueItem =
  | { member: string; kind: 'request'; held: HeldRequest }
  | { member: string; kind: 'jobs'; held: HeldJobs }
  | { member: string; kind: 'coalesce'; entries: BufferedJob[] };

export interface HoldStore {
  hold(member: string, payload: HeldRequest | HeldJobs, dueMs: number): Promise<void>;
  /** Adds a job to a person's coalescing buffer; false when this job id was buffered before (a replay). */
  buffer(bufferId: string, entry: BufferedJob, windowMs: number, nowMs: number): Promise<boolean>;
  /** Takes due items and leases them for `leaseMs`; an item not acked by then becomes due again. */
  takeDue(nowMs: number, limit: number, leaseMs: number): Promise<DueItem[]>;
  ack(item: DueItem, nowMs: number): Promise<void>;
  /** Hands a taken item back, due at `dueMs` (a failed or interrupted attempt); a no-op once it was acked. */
  release(item: DueItem, dueMs: number): Promise<void>;
  pending(): Promise<number>;
}

/** Produces to Kafka; resolves only when every record is acknowledged by all in-sync replicas. */
export interface OutputSink {
  send(jobs: readonly DispatchJobV1[], deadLetters: readonly DeadLetterV1[]): Promise<void>;
}

/** One audience entry: index -1 is a CSV header. */
export interface AudienceLine {
  index: number;
  /** The entry as the file has it (the original in a dead letter). */
  text: string;
  /** CSV only: the record's cells, unquoted. */
  cells?: string[];
}

export interface AudienceChunk {
  lines: AudienceLine[];
  /** The audience index after the last line of this chunk (where a resume starts). */
  next: number;
  bytesRead: number;
  size: number;
}

export interface AudienceReader {
  /** Resolves a caller-supplied path inside the audience root; throws an AppError `audience_unreadable` otherwise. */
  resolve(path: string): Promise<string>;
  chunks(file: string, format: 'ndjson' | 'csv', fromIndex: number, chunkSize: number): AsyncIterable<AudienceChunk>;
}

export type { Clock } from '@wa/shared/clock';
