import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { CampaignSummary } from '@wa/shared/campaigns';
import { formatIssues } from '@wa/shared/decode';
import { isAppError } from '@wa/shared/errors';
import { registerOpsRoutes } from '@wa/shared/http-ops';
import type { Readiness } from '@wa/shared/readiness';
import { COST_GROUPS, DELIVERY_GROUPS, type AnalyticsQueries } from '../adapters/analytics-queries';
import { formatMicros } from '../domain/money';

export interface AppDeps {
  queries: AnalyticsQueries;
  registry: Registry;
  readiness: Readiness;
  logger?: Logger;
  dashboard: { title: string; refreshMs: number };
  /** The campaign's record (state, audience, progress) kept in Redis by ingest and the dispatcher. */
  campaignRecord?: (id: string) => Promise<CampaignSummary | null>;
}

const DAY_MS = 86_400_000;
const MAX_WINDOW_MS = 400 * DAY_MS;

const windowQuery = z
  .object({
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .transform((q, ctx) => {
    const to = q.to ? new Date(q.to) : new Date();
    const from = q.from ? new Date(q.from) : new Date(to.getTime() - DAY_MS);
    if (from >= to) ctx.addIssue({ code: 'custom', path: ['from'], message: 'must be before "to"' });
    if (to.getTime() - from.getTime() > MAX_WINDOW_MS) ctx.addIssue({ code: 'custom', path: ['from'], message: 'window is limited to 400 days' });
    return { from, to };
  });

const deliveryQuery = z.object({ from: z.string().optional(), to: z.string().optional(), groupBy: z.enum(DELIVERY_GROUPS).default('none') }).strict();
const costQuery = z
  .object({
    from: z.string().optional(),
    to: z.string().optional(),
    groupBy: z.enum(COST_GROUPS).default('none'),
    // Comma-separated campaign ids: the spend of those campaigns (their whole life) instead of a window.
    campaign: z
      .string()
      .max(50 * 129)
      .transform((v) => v.split(',').filter(Boolean))
      .pipe(z.array(z.string().min(1).max(128)).min(1).max(50))
      .optional(),
  })
  .strict();
const campaignParams = z.object({ id: z.string().min(1).max(128) });
const dashboardQuery = z
  .object({ minutes: z.coerce.number().int().min(5).max(1_440).default(60), hours: z.coerce.number().int().min(1).max(720).default(24) })
  .strict();

class BadRequest extends Error {
  constructor(readonly detail: string) {
    super(detail);
  }
}

function parse<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const r = schema.safeParse(value);
  if (!r.success) throw new BadRequest(formatIssues(r.error));
  return r.data;
}

const usd = (micros: number) => formatMicros(micros);
const escapeHtml = (text: string) => text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const here = dirname(fileURLToPath(import.meta.url));

/** The query API, dashboard and ops routes. Only main.ts listens. */
export function buildApp(deps: AppDeps): FastifyInstance {
  // Request ids are random (not a counter) so that one quoted in an error says nothing about traffic.
  const app = Fastify({ logger: false, return503OnClosing: true, genReqId: () => randomUUID() });
  const chartJs = readFileSync(join(dirname(createRequire(import.meta.url).resolve('chart.js')), 'chart.umd.min.js'));
  const dashboardJs = readFileSync(join(here, 'public', 'dashboard.js'));
  const indexHtml = readFileSync(join(here, 'public', 'index.html'), 'utf8')
    .replaceAll('{{title}}', escapeHtml(deps.dashboard.title))
    .replaceAll('{{refreshMs}}', String(deps.dashboard.refreshMs));

  // ClickHouse error text names tables, columns and the query: logged with the request id, never returned.
  app.setErrorHandler((err, req, reply) => {
    if (err instanceof BadRequest) return reply.code(400).send({ error: 'bad_request', detail: err.detail });
    const status = isAppError(err) ? (err.httpStatus ?? (err.disposition === 'retry' ? 503 : 500)) : 500;
    deps.logger?.error({ err, requestId: req.id, route: req.routeOptions.url }, 'request failed');
    const code = status === 503 ? 'temporarily_unavailable' : 'internal_error';
    return reply.code(status).send({ error: code, detail: `the request failed; quote request id ${req.id} to the operator`, requestId: req.id });
  });

  // The dashboard loads only its own script and chart.js, and is never framed (clickjacking).
  app.addHook('onSend', async (_req, reply) => {
    reply.header('x-content-type-options', 'nosniff');
    reply.header(
      'content-security-policy',
      "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'",
    );
    reply.header('x-frame-options', 'DENY');
    reply.header('referrer-policy', 'no-referrer');
  });

  registerOpsRoutes(app, { registry: deps.registry, readiness: deps.readiness });

  app.get('/v1/stats/delivery', async (req) => {
    const q = parse(deliveryQuery, req.query);
    const window = parse(windowQuery, q);
    const rows = await deps.queries.delivery(window, q.groupBy);
    return { from: window.from.toISOString(), to: window.to.toISOString(), groupBy: q.groupBy, rows };
  });

  app.get('/v1/stats/costs', async (req) => {
    const q = parse(costQuery, req.query);
    const window = parse(windowQuery, q);
    const rows = await deps.queries.costs(window, q.groupBy, q.campaign);
    return {
      scope: q.campaign
        ? `campaigns ${q.campaign.join(', ')} (their whole life)`
        : `UTC days ${window.from.toISOString().slice(0, 10)} to ${window.to.toISOString().slice(0, 10)}`,
      from: window.from.toISOString(),
      to: window.to.toISOString(),
      groupBy: q.groupBy,
      ...(q.campaign ? { campaigns: q.campaign } : {}),
      currency: 'USD',
      rows: rows.map((r) => ({ ...r, spendUsd: usd(r.spendMicros) })),
      totalMicros: rows.reduce((n, r) => n + r.spendMicros, 0),
    };
  });

  app.get('/v1/campaigns/:id', async (req, reply) => {
    const { id } = parse(campaignParams, req.params);
    const campaign = await deps.queries.campaign(id);
    if (!campaign) return reply.code(404).send({ error: 'campaign_not_found', detail: `no events for campaign ${id}` });
    return { ...campaign, cost: { ...campaign.cost, spendUsd: usd(campaign.cost.spendMicros) } };
  });

  app.get('/v1/dashboard', async (req) => {
    const q = parse(dashboardQuery, req.query);
    const to = new Date();
    const from = new Date(to.getTime() - q.hours * 3_600_000);
    const costFrom = new Date(to.getTime() - 30 * DAY_MS);
    const [throughput, funnel, hourly, costCategory, costCountry, costMessage, campaigns, senders] = await Promise.all([
      deps.queries.throughput(q.minutes),
      deps.queries.delivery({ from, to }, 'none'),
      deps.queries.delivery({ from, to }, 'hour'),
      deps.queries.costs({ from: costFrom, to }, 'category'),
      deps.queries.costs({ from: costFrom, to }, 'country'),
      deps.queries.costsByMessage({ from: costFrom, to }),
      deps.queries.recentCampaigns(10),
      deps.queries.senders(q.hours),
    ]);
    const perCampaign = await Promise.all(campaigns.map((c) => deps.queries.campaign(c.campaignId)));
    const records = await Promise.all(
      campaigns.map(async (c) => {
        if (!deps.campaignRecord) return 'unavailable' as const;
        try {
          return (await deps.campaignRecord(c.campaignId)) ?? ('none' as const);
        } catch (err) {
          deps.logger?.warn({ err, requestId: req.id }, 'campaign record unreadable');
          return 'unavailable' as const;
        }
      }),
    );
    return {
      generatedAt: to.toISOString(),
      hours: q.hours,
      // What each view counts, as the page prints it: no view mixes windows without saying so.
      scope: {
        window: `sends of the last ${q.hours} h (${from.toISOString().slice(0, 16)}Z to ${to.toISOString().slice(0, 16)}Z), by send time`,
        throughput: `events per minute, last ${q.minutes} min`,
        cost: `UTC days ${costFrom.toISOString().slice(0, 10)} to ${to.toISOString().slice(0, 10)}`,
        senders: `achieved: sends accepted in the last 60 s; 130429/131056: send attempts in the last ${q.hours} h; limit use: unique recipients in the last 24 h; quality, allowed rate and limit: the latest account webhook (90 days)`,
        campaigns: `the 10 campaigns active most recently (30 days), each over its whole life: state, audience, progress and unsent jobs from the campaign record (as wa-broadcast status shows them), the funnel and cost from ClickHouse`,
      },
      throughput,
      funnel: funnel[0] ?? null,
      hourly,
      costByCategory: costCategory.map((r) => ({ ...r, spendUsd: usd(r.spendMicros) })),
      costByCountry: costCountry.map((r) => ({ ...r, spendUsd: usd(r.spendMicros) })),
      costByMessage: costMessage.map((r) => ({ ...r, spendUsd: usd(r.spendMicros) })),
      // record: the campaign's Redis record, 'none' when it has none (expired or not a campaign), 'unavailable' when unreadable.
      campaigns: perCampaign.flatMap((c, i) => (c === null ? [] : [{ ...c, cost: { ...c.cost, spendUsd: usd(c.cost.spendMicros) }, record: records[i] }])),
      senders,
    };
  });

  app.get('/', async (_req, reply) => reply.type('text/html; charset=utf-8').send(indexHtml));
  app.get('/assets/dashboard.js', async (_req, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'no-cache').send(dashboardJs));
  app.get('/assets/chart.umd.min.js', async (_req, reply) =>
    reply.type('text/javascript; charset=utf-8').header('cache-control', 'max-age=86400').send(chartJs),
  );

  return app;
}
