import type { Consumer, Kafka } from 'kafkajs';
import { createConsumer, decodeJson, sentEventV1, statusEventV1, TERMINAL_SEND_OUTCOMES, topics, type SendOutcome } from '@wa/shared';

export interface OutcomeTally {
  /** Terminal outcomes seen per job id (a Set: a re-produced identical event is not a second outcome). */
  terminalByJob: Map<string, Set<SendOutcome>>;
  outcomes: Map<SendOutcome, number>;
  failuresByReason: Map<string, number>;
  sendLatenciesMs: number[];
  firstSentAt: number | null;
  lastSentAt: number | null;
  sentByNumber: Map<string, number>;
  /** Job ids by campaign (from any outcome event). */
  jobsByCampaign: Map<string, Set<string>>;
  /** Statuses Meta reported per job id, from `wa.events.status` (through biz_opaque_callback_data). */
  statusesByJob: Map<string, Set<string>>;
  /** Request → delivered latencies in ms, from the first delivered/read status of each job. */
  requestToDeliveredMs: number[];
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
    jobsByCampaign: new Map(),
    statusesByJob: new Map(),
    requestToDeliveredMs: [],
  };
  const requestedAtByJob = new Map<string, number>();
  const seenEvents = new Set<string>();
  const consumer: Consumer = createConsumer(kafka, { groupId: `${prefix}outcome-collector-${Date.now()}`, maxWaitTimeInMs: 200 });
  await consumer.connect();
  const sentTopic = prefix + topics.messagesSent.name;
  await consumer.subscribe({ topics: [sentTopic, prefix + topics.eventsStatus.name], fromBeginning: true });
  await consumer.run({
    eachBatchAutoResolve: true,
    eachBatch: async ({ batch }) => {
      if (batch.topic !== sentTopic) {
        for (const message of batch.messages) {
          const status = decodeJson(statusEventV1, message.value);
          if (!status.ok || !status.value.jobId) continue;
          const jobId = status.value.jobId;
          const set = tally.statusesByJob.get(jobId) ?? new Set<string>();
          const firstDelivery = (status.value.status === 'delivered' || status.value.status === 'read') && !set.has('delivered') && !set.has('read');
          set.add(status.value.status);
          tally.statusesByJob.set(jobId, set);
          const requestedAt = requestedAtByJob.get(jobId);
          if (firstDelivery && requestedAt !== undefined) tally.requestToDeliveredMs.push(Date.parse(status.value.receivedAt) - requestedAt);
        }
        return;
      }
      for (const message of batch.messages) {
        const decoded = decodeJson(sentEventV1, message.value);
        if (!decoded.ok) continue;
        const e = decoded.value;
        // The same event re-produced after a crash carries the same eventId: count it once.
        const key = `${e.eventId}:${e.outcome}`;
        if (seenEvents.has(key)) continue;
        seenEvents.add(key);
        tally.outcomes.set(e.outcome, (tally.outcomes.get(e.outcome) ?? 0) + 1);
        if (e.campaignId) {
          const jobs = tally.jobsByCampaign.get(e.campaignId) ?? new Set<string>();
          jobs.add(e.jobId);
          tally.jobsByCampaign.set(e.campaignId, jobs);
        }
        requestedAtByJob.set(e.jobId, Date.parse(e.requestedAt));
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

/** Jobs of a campaign, each with its terminal outcomes, and the ones still without any. */
export function campaignReport(tally: OutcomeTally, campaignId: string) {
  const jobs = [...(tally.jobsByCampaign.get(campaignId) ?? [])];
  const terminal = jobs.filter((j) => (tally.terminalByJob.get(j)?.size ?? 0) > 0);
  const conflicting = jobs.filter((j) => (tally.terminalByJob.get(j)?.size ?? 0) > 1);
  const sent = jobs.filter((j) => tally.terminalByJob.get(j)?.has('sent'));
  const sentWithFinalStatus = sent.filter((j) => {
    const s = tally.statusesByJob.get(j);
    return s !== undefined && (s.has('delivered') || s.has('read') || s.has('failed'));
  });
  return { jobs: jobs.length, terminal: terminal.length, conflicting, sent: sent.length, sentWithFinalStatus: sentWithFinalStatus.length };
}
