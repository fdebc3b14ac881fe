import { topics, type DeadLetterV1 } from '@wa/shared';

export type ReplayPlan = { replay: true; topic: string; key: Buffer | null; value: Buffer } | { replay: false; why: string };

/** Reasons that a replay cannot fix: the record would be dead-lettered again unchanged. */
const NOT_REPLAYABLE: ReadonlySet<DeadLetterV1['reason']> = new Set(['opted_out', 'cancelled', 'send_outcome_unknown']);

/**
 * Decides where a dead-lettered record goes back to. A record from a Kafka topic returns to that
 * topic byte for byte (with its key); one that came over HTTP returns to the request topic.
 * Records dead-lettered during broadcast expansion carry a single recipient and are replayed as
 * their original bytes to the request topic only if those bytes are a whole request.
 */
export function planReplay(record: DeadLetterV1, options: { prefix: string; reasons?: ReadonlySet<string>; force?: boolean }): ReplayPlan {
  if (options.reasons && !options.reasons.has(record.reason)) return { replay: false, why: `reason ${record.reason} not selected` };
  if (record.originalTruncated) return { replay: false, why: 'original bytes were truncated in the DLQ' };
  if (!options.force && NOT_REPLAYABLE.has(record.reason)) return { replay: false, why: `reason ${record.reason} is not fixed by a replay (use --force)` };
  const value = Buffer.from(record.originalValueBase64, 'base64');
  const key = record.originalKeyBase64 === null ? null : Buffer.from(record.originalKeyBase64, 'base64');
  switch (record.source.kind) {
    case 'kafka': {
      const topic = record.source.topic.startsWith(options.prefix) ? record.source.topic : options.prefix + record.source.topic;
      return { replay: true, topic, key, value };
    }
    case 'http':
      return { replay: true, topic: options.prefix + topics.notificationsRequested.name, key, value };
    case 'expansion':
      return { replay: false, why: 'a single recipient of a broadcast: fix the audience and resubmit the broadcast with a new idempotency key' };
  }
}
