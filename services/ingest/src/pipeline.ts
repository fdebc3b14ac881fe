import type { Logger } from 'pino';
import type { CatalogIndex } from '@wa/shared/catalog';
import type { DeadLetterV1 } from '@wa/shared/contracts/dead-letter';
import type { DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import { notificationRequestV1, type NotificationRequestV1 } from '@wa/shared/contracts/notification-request';
import { decodeJson } from '@wa/shared/decode';
import { isAppError } from '@wa/shared/errors';
import { parseCsvHeader, parseCsvRecord, parseNdjsonLine, type CsvLayout } from './domain/audience-format';
import { mergeBuffered } from './domain/coalesce';
import { decodeRequest } from './domain/fast-request';
import { buildJob, dedupeInline, inlineRecipients, resolveRecipient, type ResolvedRecipient } from './domain/expand';
import { createQuietHoursCalculator, notBeforeBeyondHorizon, requestTiming, type QuietHours } from './domain/schedule';
import { planRequest, type Plan } from './domain/validate';
import type { IngestMetrics } from './metrics';
import { createRunOutput } from './run-output';
import type { AudienceReader, Clock, DueItem, ExpansionStore, HeldRequest, HoldStore, IdempotencyStore, OutputSink } from './ports';

export interface PipelineOptions {
  service: string;
  coalesceWindowMs: number;
  coalesceMaxJobs: number;
  quietHours: QuietHours;
  notBeforeToleranceMs: number;
  /** Furthest a not-before may lie ahead; later ones are dead-lettered. */
  notBeforeHorizonMs: number;
  expansionChunkSize: number;
  produceBatchSize: number;
  maxRecordBytes: number;
  dlqMaxOriginalBytes: number;
}

export interface PipelineDeps {
  catalog: CatalogIndex;
  idempotency: IdempotencyStore;
  expansion: ExpansionStore;
  holds: HoldStore;
  /** Queue of broadcasts to expand, worked off by the expansion worker, not by the consumer. */
  expansions: HoldStore;
  sink: OutputSink;
  audience: AudienceReader;
  metrics: IngestMetrics;
  clock: Clock;
  logger: Logger;
  options: PipelineOptions;
}

/** A request record as it reached us, whichever door it came through. */
export interface Envelope {
  key: Buffer | null;
  value: Buffer | null;
  source: DeadLetterV1['source'];
  /** Identifies this submission for idempotency: Kafka coordinates, or the HTTP claim id. */
  owner: string;
  receivedAtMs: number;
}

/** How the caller (a consumer batch or the scheduler) lets long work stop early and stay alive. */
export interface Control {
  shouldStop(): boolean;
  heartbeat(): Promise<void>;
  /** Called after the outputs of envelopes [0..index] are acknowledged by Kafka. */
  committed(index: number): Promise<void>;
}

type Outcome = 'done' | 'interrupted';

/**
 * The ingest pipeline: decode → claim the idempotency key → resolve against the catalogue →
 * expiry / not-before → expand recipients (normalise, dedupe) → quiet hours / coalescing / emit.
 * Outputs are buffered and produced in batches; the caller commits only after `committed`.
 */
export function createPipeline(deps: PipelineDeps) {
  const { metrics, options } = deps;
  const quietRelease = createQuietHoursCalculator(options.quietHours);

  function heldRequest(env: Envelope): HeldRequest {
    return {
      kind: 'request',
      owner: env.owner,
      receivedAtMs: env.receivedAtMs,
      valueBase64: (env.value ?? Buffer.alloc(0)).toString('base64'),
      source: env.source,
    };
  }

  // Each invocation owns its output buffer (run-output.ts).
  function createRun() {
    const { flush, deadLetterRecord, deadLetterRecipient, problemToDlq, route, holdQuietGroups, pushJobs, pending } = createRunOutput(deps, quietRelease);

    async function expandInline(plan: Plan, requestedAt: string): Promise<void> {
      const request = plan.request;
      const resolved: ResolvedRecipient[] = [];
      const recipients = inlineRecipients(request);
      for (const raw of recipients) {
        const r = resolveRecipient(plan, raw);
        if (r.ok) resolved.push(r.recipient);
        else problemToDlq(request, r.problem);
      }
      const { kept, duplicates } = dedupeInline(resolved);
      if (duplicates > 0) metrics.duplicates.inc({ kind: 'recipient' }, duplicates);
      const quiet = new Map<number, DispatchJobV1[]>();
      for (const recipient of kept) {
        const pending = route(plan, buildJob(plan, recipient, requestedAt), recipient.country, quiet);
        if (pending) await pending;
      }
      if (quiet.size > 0) await holdQuietGroups(request.idempotencyKey, 0, quiet);
      if (request.campaignId !== undefined) {
        const delta = { audience: recipients.length, invalid: recipients.length - resolved.length, duplicates, jobs: kept.length };
        await deps.expansion.registerCampaignRequest(request.campaignId, request.idempotencyKey, deps.clock.now(), delta);
      }
    }

    async function expandAudience(plan: Plan, env: Envelope, requestedAt: string, control: Control): Promise<Outcome> {
      const request = plan.request;
      const audience = request.audience!;
      let file: string;
      try {
        file = await deps.audience.resolve(audience.path);
      } catch (err) {
        if (isAppError(err) && err.code === 'audience_unreadable') {
          deadLetterRecord(env, 'audience_unreadable', err.message, request);
          await deps.expansion.finish(request.idempotencyKey, request.campaignId);
          return 'done';
        }
        throw err;
      }
      const key = request.idempotencyKey;
      const checkpoint = await deps.expansion.checkpoint(key);
      if (checkpoint?.done) return 'done';
      let layout: CsvLayout | null = null;
      metrics.audiencesActive.inc();
      try {
        for await (const chunk of deps.audience.chunks(file, audience.format, checkpoint?.next ?? 0, options.expansionChunkSize)) {
          const candidates: ResolvedRecipient[] = [];
          let read = 0;
          let invalid = 0;
          let emitted = 0;
          let skipped = 0;
          for (const line of chunk.lines) {
            if (line.index === -1) {
              layout = parseCsvHeader(line.cells ?? []);
              if (!layout) {
                deadLetterRecord(env, 'audience_unreadable', 'the CSV header names no `to` (or `phone`, `wa_id`) column', request);
                await deps.expansion.finish(key, request.campaignId);
                return 'done';
              }
              continue;
            }
            read++;
            const parsed = layout && line.cells ? parseCsvRecord(line.cells, layout, line.index) : parseNdjsonLine(line.text, line.index);
            if (parsed.ok === 'skip') {
              skipped++;
              continue;
            }
            if (!parsed.ok) {
              deadLetterRecipient(request, line.index, line.text, 'invalid_recipient', parsed.detail);
              invalid++;
              continue;
            }
            const r = resolveRecipient(plan, parsed.recipient);
            if (r.ok) candidates.push(r.recipient);
            else {
              problemToDlq(request, r.problem);
              invalid++;
            }
          }
          const first = await deps.expansion.firstSeen(
            key,
            candidates.map((c) => ({ waId: c.waId, index: c.index })),
          );
          const quiet = new Map<number, DispatchJobV1[]>();
          let duplicates = 0;
          for (let i = 0; i < candidates.length; i++) {
            const c = candidates[i]!;
            if (!first[i]) {
              duplicates++;
              continue;
            }
            const pending = route(plan, buildJob(plan, c, requestedAt), c.country, quiet);
            if (pending) await pending;
            emitted++;
          }
          if (duplicates > 0) metrics.duplicates.inc({ kind: 'recipient' }, duplicates);
          await holdQuietGroups(key, chunk.lines[0]?.index ?? chunk.next, quiet);
          await flush();
          // Counted with the checkpoint (one transaction): a chunk expanded again after a crash is counted once.
          const campaign =
            request.campaignId === undefined ? undefined : { id: request.campaignId, delta: { audience: read - skipped, invalid, duplicates, jobs: emitted } };
          await deps.expansion.saveCheckpoint(key, chunk.next, campaign);
          metrics.expanded.inc(read);
          metrics.audienceProgress.set(chunk.size > 0 ? Math.min(1, chunk.bytesRead / chunk.size) : 1);
          await control.heartbeat();
          if (control.shouldStop()) return 'interrupted';
        }
        await deps.expansion.finish(key, request.campaignId);
        return 'done';
      } catch (err) {
        // A file that cannot be read on (a line or record over the cap, a quote left open) fails the same way on every
        // retry: dead-letter the request; the recipients before the bad spot are out and stay out.
        if (!isAppError(err) || err.code !== 'audience_unreadable') throw err;
        deadLetterRecord(env, 'audience_unreadable', err.message, request);
        await deps.expansion.finish(key, request.campaignId);
        return 'done';
      } finally {
        metrics.audiencesActive.dec();
      }
    }

    async function handleRequest(request: NotificationRequestV1, env: Envelope, control: Control, expander = false): Promise<Outcome> {
      const planned = planRequest(request, deps.catalog, { coalesceWindowMs: options.coalesceWindowMs });
      if (!planned.ok) {
        deadLetterRecord(env, planned.reason, planned.detail, request);
        return 'done';
      }
      const beyond = notBeforeBeyondHorizon(request, deps.clock.now(), options.notBeforeHorizonMs);
      if (beyond) {
        deadLetterRecord(env, 'schema_violation', beyond, request);
        return 'done';
      }
      const timing = requestTiming(request, deps.clock.now(), options.notBeforeToleranceMs);
      if (timing.kind === 'expired') {
        deadLetterRecord(env, 'expired', timing.detail, request);
        return 'done';
      }
      if (timing.kind === 'hold') {
        await deps.holds.hold(`r:${request.idempotencyKey}`, heldRequest(env), timing.untilMs);
        metrics.requests.inc({ outcome: 'held', source: env.source.kind });
        return 'done';
      }
      if (request.audience && !expander) {
        // A million-line expansion inside a consumer batch would stall every partition that kafkajs
        // fetched with it (it fetches again only when all batches are done), so an OTP would wait.
        // The campaign exists (and can be paused) from here, before its first job is expanded.
        if (request.campaignId !== undefined) await deps.expansion.registerCampaignRequest(request.campaignId, request.idempotencyKey, deps.clock.now());
        await deps.expansions.hold(`r:${request.idempotencyKey}`, heldRequest(env), deps.clock.now());
        metrics.requests.inc({ outcome: 'queued_for_expansion', source: env.source.kind });
        return 'done';
      }
      const requestedAt = new Date(env.receivedAtMs).toISOString();
      const outcome = request.audience
        ? await expandAudience(planned.plan, env, requestedAt, control)
        : (await expandInline(planned.plan, requestedAt), 'done' as const);
      if (outcome === 'done') metrics.requests.inc({ outcome: 'accepted', source: env.source.kind });
      return outcome;
    }

    return {
      handleRequest,
      deadLetterRecord,
      deadLetterRecipient,
      flush,
      pushJobs,
      pending,
    };
  }

  return {
    /**
     * Processes envelopes in order. Returns how many were fully processed (a prefix); their outputs
     * are acknowledged by Kafka when this resolves.
     */
    async processEnvelopes(envs: readonly Envelope[], control: Control): Promise<number> {
      const run = createRun();
      const decoded = envs.map((e) => decodeRequest(e.value, options.maxRecordBytes));
      const toClaim: { i: number; key: string; owner: string }[] = [];
      decoded.forEach((d, i) => {
        if (d.ok) toClaim.push({ i, key: d.value.idempotencyKey, owner: envs[i]!.owner });
      });
      const claims = new Map<number, string>();
      const results = await deps.idempotency.claim(toClaim);
      toClaim.forEach((c, n) => claims.set(c.i, results[n]!));

      let done = 0;
      let committedUpTo = -1;
      for (let i = 0; i < envs.length; i++) {
        if (control.shouldStop()) break;
        const env = envs[i]!;
        const d = decoded[i]!;
        if (!d.ok) {
          run.deadLetterRecord(env, d.reason, d.detail);
        } else if (claims.get(i) === 'duplicate') {
          metrics.duplicates.inc({ kind: 'request' });
          metrics.requests.inc({ outcome: 'duplicate', source: env.source.kind });
        } else if ((await run.handleRequest(d.value, env, control)) === 'interrupted') {
          break;
        }
        done = i + 1;
        if (run.pending() >= options.produceBatchSize) {
          await run.flush();
          await control.committed(i);
          committedUpTo = i;
        }
      }
      await run.flush();
      if (done - 1 > committedUpTo) await control.committed(done - 1);
      return done;
    },

    /** Releases one held item (a due request, quiet-hours group or coalescing buffer). */
    async processDue(item: DueItem, control: Control, mode: { expander: boolean } = { expander: false }): Promise<Outcome> {
      const run = createRun();
      const now = deps.clock.now();
      if (item.kind === 'request') {
        const h = item.held;
        const env: Envelope = { key: null, value: Buffer.from(h.valueBase64, 'base64'), source: h.source, owner: h.owner, receivedAtMs: h.receivedAtMs };
        const d = decodeJson(notificationRequestV1, env.value, Number.MAX_SAFE_INTEGER);
        const outcome = d.ok ? await run.handleRequest(d.value, env, control, mode.expander) : (run.deadLetterRecord(env, d.reason, d.detail), 'done' as const);
        await run.flush();
        return outcome;
      }
      const entries = item.kind === 'jobs' ? item.held.jobs.map((job) => ({ job })) : item.entries;
      const live = entries.filter((e) => {
        if (e.job.expiresAt !== undefined && Date.parse(e.job.expiresAt) <= now) {
          run.deadLetterRecipient(
            { idempotencyKey: e.job.requestKey, campaignId: e.job.campaignId },
            -1,
            JSON.stringify(e.job),
            'expired',
            `expired at ${e.job.expiresAt} while held`,
            e.job.jobId,
          );
          return false;
        }
        return true;
      });
      if (item.kind === 'jobs') {
        run.pushJobs(live.map((e) => e.job));
      } else {
        const merged = mergeBuffered(
          item.entries.filter((e) => live.includes(e)),
          options.coalesceMaxJobs,
        );
        for (const m of merged) if (m.coalescedJobIds) metrics.coalesced.inc(m.coalescedJobIds.length);
        run.pushJobs(merged);
      }
      await run.flush();
      return 'done';
    },
  };
}
export type Pipeline = ReturnType<typeof createPipeline>;
