import type { Consumer, Kafka } from 'kafkajs';
import { createConsumer, decodeJson, sentEventV1, TERMINAL_SEND_OUTCOMES, topics, type SendOutcome } from '@wa/shared';

export interface OutcomeTally {
  /** Terminal outcomes seen per job id (a Set: a re-produced identical event is not a second outcome). */
  terminalByJob: Map<string, Set<SendOutcome>>;
  outcomes: Map<SendOutcome, number>;
  failuresByReason: Map<string, number>;
  sendLatenciesMs: number[];
  firstSentAt: number | null;
  lastSentAt: number | null;
  sentByNumber: Map<string, number>;
}

/** Counts what the dispatcher says happened, per job: the "lost" and "double outcome" checks read this. */
export async function collectOutcomes(kafka: Kafka, prefix: string): Promise<{ tally: OutcomeTally; stop: () => Promise<void> }> {
  const tally: OutcomeTally = {
    terminalByJob: new Map(),
    outcomes: new Map(),
    failuresByReason: new Map(),
    sendLatenciesMs: [],
    firstSentAt: null,
    lastSentAt: null,
    sentByNumber: new Map(),
  };
  const seenEvents = new Set<string>();
  const consumer: Consumer = createConsumer(kafka, { groupId: `${prefix}outcome-collector-${Date.now()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  await consumer.subscribe({ topic: prefix + topics.messagesSent.name, fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      for (const message of batch.messages) {
        const decoded = decodeJson(sentEventV1, message.value);
        if (!decoded.ok) continue;
        const e = decoded.value;
        // The same event re-produced after a crash carries the same eventId: count it once.
        const key = `${e.eventId}:${e.outcome}`;
        if (seenEvents.has(key)) continue;
        seenEvents.add(key);
        tally.outcomes.set(e.outcome, (tally.outcomes.get(e.outcome) ?? 0) + 1);
        if (!TERMINAL_SEND_OUTCOMES.has(e.outcome)) continue;
        const set = tally.terminalByJob.get(e.jobId) ?? new Set();
        set.add(e.outcome);
        tally.terminalByJob.set(e.jobId, set);
        if (e.outcome === 'sent') {
          const at = Date.parse(e.occurredAt);
          tally.firstSentAt = Math.min(tally.firstSentAt ?? at, at);
          tally.lastSentAt = Math.max(tally.lastSentAt ?? at, at);
          if (e.latencyMs !== undefined) tally.sendLatenciesMs.push(e.latencyMs);
          tally.sentByNumber.set(e.senderPhoneNumberId, (tally.sentByNumber.get(e.senderPhoneNumberId) ?? 0) + 1);
        } else {
          const reason = e.reason ?? e.outcome;
          tally.failuresByReason.set(reason, (tally.failuresByReason.get(reason) ?? 0) + 1);
        }
      }
    },
  });
  return { tally, stop: () => consumer.disconnect() };
}

export function terminalJobs(tally: OutcomeTally): number {
  return tally.terminalByJob.size;
}

/** Jobs with more than one distinct terminal outcome (e.g. sent and unknown): each is a defect. */
export function jobsWithConflictingOutcomes(tally: OutcomeTally): string[] {
  return [...tally.terminalByJob].filter(([, set]) => set.size > 1).map(([job]) => job);
}

export function percentile(values: readonly number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
