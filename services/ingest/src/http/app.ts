import Fastify, { LogController, type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import type { CatalogIndex } from '@wa/shared/catalog';
import { systemClock, type Clock } from '@wa/shared/clock';
import { notificationRequestV1, type NotificationRequestV1 } from '@wa/shared/contracts/notification-request';
import { bearerToken, requireToken } from '@wa/shared/http-auth';
import { registerOpsRoutes } from '@wa/shared/http-ops';
import { isAppError } from '@wa/shared/errors';
import type { Readiness } from '@wa/shared/readiness';
import { inlineRecipientProblems } from '../domain/expand';
import { notBeforeBeyondHorizon } from '../domain/schedule';
import { planRequest } from '../domain/validate';
import type { AudienceReader } from '../ports';

export type SubmitStatus = 'accepted' | 'duplicate';

export interface AppDeps {
  apiToken: string;
  /** Also accepted while callers move to a rotated token. */
  previousApiToken?: string;
  /** Largest single job (it becomes one record on the request topic). */
  maxRecordBytes: number;
  /** Largest body of the batch endpoint. */
  batchBodyLimitBytes: number;
  maxBatchJobs: number;
  catalog: CatalogIndex;
  coalesceWindowMs: number;
  /** Furthest a not-before may lie ahead (400 beyond). */
  notBeforeHorizonMs: number;
  clock?: Clock;
  audience: AudienceReader;
  /** Claims the idempotency keys and enqueues the new jobs on the request topic (acks=-1). */
  submit: (jobs: readonly { request: NotificationRequestV1; bytes: Buffer }[]) => Promise<SubmitStatus[]>;
  registry: Registry;
  readiness: Readiness;
  logger?: Logger;
}

interface FieldIssue {
  path: string;
  message: string;
}

class BadRequest extends Error {
  constructor(
    readonly code: string,
    readonly issues: FieldIssue[],
  ) {
    super(issues.map((i) => `${i.path}: ${i.message}`).join('; '));
  }
}

function recipientsOf(r: NotificationRequestV1): number | null {
  if (r.to !== undefined) return 1;
  if (r.recipients) return r.recipients.length;
  return null;
}

/**
 * The HTTP front door. A job is checked here as far as it can be without sending (schema,
 * catalogue, audience path) so callers get every problem at once, then enqueued on the request
 * topic: both doors share one pipeline, and 202 means Kafka has the job.
 */
export function buildApp(deps: AppDeps): FastifyInstance {
  // No per-request log lines (the metrics count requests); fastify 5's replacement for the deprecated
  // top-level disableRequestLogging, which printed FSTDEP023 at start-up.
  const app = Fastify({
    loggerInstance: deps.logger,
    bodyLimit: deps.batchBodyLimitBytes,
    logController: new LogController({ disableRequestLogging: true }),
  }) as unknown as FastifyInstance;
  const clock = deps.clock ?? systemClock;

  app.setErrorHandler((err, _req, reply) => {
    if (err instanceof BadRequest) return reply.code(400).send({ code: err.code, message: err.message, issues: err.issues });
    const e = err as { statusCode?: number; code?: string; message: string };
    if (e.statusCode === 413) return reply.code(413).send({ code: 'payload_too_large', message: e.message });
    if (e.code === 'FST_ERR_CTP_INVALID_JSON_BODY' || (e.statusCode === 400 && e.code?.startsWith('FST_ERR_CTP'))) {
      return reply.code(400).send({ code: 'invalid_json', message: e.message, issues: [{ path: '(root)', message: e.message }] });
    }
    if (e.statusCode === 415) return reply.code(415).send({ code: 'unsupported_media_type', message: e.message });
    if (isAppError(err) && err.disposition === 'retry') {
      return reply.code(503).header('retry-after', '1').send({ code: err.code, message: 'temporarily unable to accept jobs; retry' });
    }
    deps.logger?.error({ err }, 'unexpected error in ingest API');
    return reply.code(500).send({ code: 'internal_error', message: 'internal error' });
  });

  registerOpsRoutes(app, { registry: deps.registry, readiness: deps.readiness });

  // Every route registered under /v1/ needs the token, whatever spelling of the path reached it.
  requireToken(app, {
    prefix: '/v1/',
    tokens: [deps.apiToken, ...(deps.previousApiToken ? [deps.previousApiToken] : [])],
    presented: (req) => {
      const header = req.headers['x-api-token'];
      return typeof header === 'string' ? header : bearerToken(req);
    },
    unauthorized: (reply) => reply.code(401).send({ code: 'unauthorized', message: 'missing or wrong API token (x-api-token or Authorization: Bearer)' }),
  });

  async function check(body: unknown, prefix: string): Promise<{ request: NotificationRequestV1; bytes: Buffer } | FieldIssue[]> {
    const parsed = notificationRequestV1.safeParse(body);
    if (!parsed.success) {
      return parsed.error.issues.map((i) => ({ path: [prefix, ...i.path.map(String)].filter(Boolean).join('.') || '(root)', message: i.message }));
    }
    const request = parsed.data;
    const planned = planRequest(request, deps.catalog, { coalesceWindowMs: deps.coalesceWindowMs });
    const at = (...path: (string | number)[]) => [prefix, ...path].filter((p) => p !== '').join('.');
    if (!planned.ok) return [{ path: at(planned.reason === 'unknown_sender' ? 'sender' : 'template'), message: `${planned.reason}: ${planned.detail}` }];
    const issues: FieldIssue[] = [];
    const beyond = notBeforeBeyondHorizon(request, clock.now(), deps.notBeforeHorizonMs);
    if (beyond) issues.push({ path: at('notBefore'), message: beyond });
    // The same per-recipient checks the pipeline applies (it dead-letters them on the Kafka path): an HTTP caller hears at once.
    for (const p of request.audience ? [] : inlineRecipientProblems(planned.plan)) {
      issues.push({ path: request.to !== undefined ? at('to') : at('recipients', p.index), message: `${p.reason}: ${p.detail}` });
    }
    if (issues.length > 0) return issues;
    if (request.audience) {
      try {
        await deps.audience.resolve(request.audience.path);
      } catch (err) {
        return [{ path: [prefix, 'audience', 'path'].filter(Boolean).join('.'), message: isAppError(err) ? err.message : 'audience cannot be opened' }];
      }
    }
    const bytes = Buffer.from(JSON.stringify(body));
    if (bytes.length > deps.maxRecordBytes) {
      throw Object.assign(new Error(`job ${prefix || ''} is ${bytes.length} bytes; the limit is ${deps.maxRecordBytes}`), { statusCode: 413 });
    }
    return { request, bytes };
  }

  async function accept(items: { request: NotificationRequestV1; bytes: Buffer }[]) {
    const statuses = await deps.submit(items);
    return { jobs: items.map((it, i) => ({ idempotencyKey: it.request.idempotencyKey, status: statuses[i]!, recipients: recipientsOf(it.request) })) };
  }

  app.post('/v1/notifications', { bodyLimit: deps.maxRecordBytes }, async (req, reply) => {
    const checked = await check(req.body, '');
    if (Array.isArray(checked)) throw new BadRequest('invalid_request', checked);
    return reply.code(202).send(await accept([checked]));
  });

  // `::` is a literal colon; a single `:` would make `:batch` a parameter (`/v1/notificationsXYZ` would match).
  app.post('/v1/notifications::batch', async (req, reply) => {
    const body = req.body as { jobs?: unknown } | null;
    if (typeof body !== 'object' || body === null || !Array.isArray(body.jobs) || body.jobs.length === 0) {
      throw new BadRequest('invalid_request', [{ path: 'jobs', message: 'expected {"jobs": [ …one or more notification requests… ]}' }]);
    }
    if (body.jobs.length > deps.maxBatchJobs)
      throw new BadRequest('invalid_request', [{ path: 'jobs', message: `at most ${deps.maxBatchJobs} jobs per batch` }]);
    const issues: FieldIssue[] = [];
    const items: { request: NotificationRequestV1; bytes: Buffer }[] = [];
    const keys = new Set<string>();
    for (const [i, job] of body.jobs.entries()) {
      const checked = await check(job, `jobs.${i}`);
      if (Array.isArray(checked)) issues.push(...checked);
      else if (keys.has(checked.request.idempotencyKey)) issues.push({ path: `jobs.${i}.idempotencyKey`, message: 'repeated within this batch' });
      else {
        keys.add(checked.request.idempotencyKey);
        items.push(checked);
      }
    }
    if (issues.length > 0) throw new BadRequest('invalid_request', issues);
    return reply.code(202).send(await accept(items));
  });

  return app;
}
