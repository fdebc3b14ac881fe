import { standingBlocks, type AccountStanding } from '@wa/shared/account-standing';
import Fastify, { type FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import { z } from 'zod';
import type { CatalogIndex } from '@wa/shared/catalog';
import { waId } from '@wa/shared/contracts/common';
import { formatIssues } from '@wa/shared/decode';
import { bearerToken, requireToken } from '@wa/shared/http-auth';
import { registerOpsRoutes } from '@wa/shared/http-ops';
import type { Readiness } from '@wa/shared/readiness';
import { liveTemplate } from '../domain/live-template';
import { admitCampaign } from '../domain/admission';
import { pickSender } from '../domain/sender-pool';
import { UnknownCampaignError, type AccountState, type CampaignControl, type CampaignState, type MessagingLimits, type RateLimiter } from '../ports';

export interface AppDeps {
  adminToken: string;
  /** Also accepted while operators move to a rotated token. */
  previousAdminToken?: string;
  registry: Registry;
  readiness: Readiness;
  catalog: CatalogIndex;
  campaigns: CampaignControl;
  account: AccountState;
  limiter: RateLimiter;
  limits: MessagingLimits;
  overflowPolicy: 'spread' | 'refuse';
}

/** Largest admin request body (the admission check's recipient list). */
export const ADMISSION_BODY_LIMIT_BYTES = 20 * 1_048_576;

const campaignId = z.string().min(1).max(128);
const admissionBody = z
  .object({
    sender: z.union([z.object({ phoneNumberId: z.string() }).strict(), z.object({ pool: z.string() }).strict()]),
    recipients: z.array(waId).min(1).max(1_000_000),
  })
  .strict();

const unknownCampaign = (id: string) => `no campaign ${JSON.stringify(id)}: ingest has accepted no request with this campaignId (in the last 30 days)`;

/** What each state change does, for the operator (the dispatcher re-reads states within a second). */
const EFFECT: Record<CampaignState, string> = {
  paused: 'no new sends within a second; sends already on the wire finish; queued jobs wait in the retry topic',
  active: 'sending restarts within a few seconds: held jobs are released now',
  cancelled: 'remaining jobs are closed as cancelled within a few seconds; no further sends',
};

/** The admin/ops HTTP app (fastify factory; only main.ts listens). Admin routes need the admin token. */
export function buildApp(deps: AppDeps): FastifyInstance {
  // An admission body of the largest list (1,000,000 fifteen-digit numbers, quoted, comma-separated) is ~18 MB.
  const app = Fastify({ logger: false, bodyLimit: ADMISSION_BODY_LIMIT_BYTES });
  registerOpsRoutes(app, { registry: deps.registry, readiness: deps.readiness });

  // Every route registered under /v1/ needs the admin token, whatever spelling of the path reached it.
  requireToken(app, {
    prefix: '/v1/',
    tokens: [deps.adminToken, ...(deps.previousAdminToken ? [deps.previousAdminToken] : [])],
    presented: (req) => {
      const header = req.headers['x-admin-token'];
      return bearerToken(req) ?? (typeof header === 'string' ? header : undefined);
    },
    unauthorized: (reply) => reply.code(401).send({ error: { code: 'unauthorized', message: 'admin token required' } }),
  });

  const setState = (state: CampaignState) => async (req: { params: unknown }, reply: { code: (n: number) => { send: (b: unknown) => unknown } }) => {
    const id = campaignId.safeParse((req.params as { id?: unknown }).id);
    if (!id.success) return reply.code(400).send({ error: { code: 'invalid_campaign_id', message: formatIssues(id.error) } });
    try {
      await deps.campaigns.set(id.data, state);
    } catch (err) {
      if (err instanceof UnknownCampaignError) return reply.code(404).send({ error: { code: 'campaign_not_found', message: unknownCampaign(id.data) } });
      if ((err as Error).message === 'campaign_cancelled')
        return reply.code(409).send({ error: { code: 'campaign_cancelled', message: 'a cancelled campaign cannot be resumed or paused' } });
      throw err;
    }
    return { id: id.data, state, effect: EFFECT[state], campaign: await deps.campaigns.summary(id.data) };
  };
  app.post('/v1/campaigns/:id/pause', setState('paused'));
  app.post('/v1/campaigns/:id/resume', setState('active'));
  app.post('/v1/campaigns/:id/cancel', setState('cancelled'));

  app.get<{ Params: { id: string } }>('/v1/campaigns/:id', async (req, reply) => {
    const id = campaignId.safeParse(req.params.id);
    if (!id.success) return reply.code(400).send({ error: { code: 'invalid_campaign_id', message: formatIssues(id.error) } });
    const summary = await deps.campaigns.summary(id.data);
    if (!summary) return reply.code(404).send({ error: { code: 'campaign_not_found', message: unknownCampaign(id.data) } });
    return summary;
  });

  /** Admission check before a broadcast: how many of its recipients fit in the portfolio's remaining budget. */
  app.post<{ Params: { id: string } }>('/v1/campaigns/:id/admission', async (req, reply) => {
    const body = admissionBody.safeParse(req.body);
    if (!body.success) return reply.code(400).send({ error: { code: 'invalid_body', message: formatIssues(body.error) } });
    const { sender, recipients } = body.data;
    const unique = [...new Set(recipients)];
    const numberIds = 'phoneNumberId' in sender ? [sender.phoneNumberId] : (deps.catalog.pool(sender.pool) ?? []);
    const first = numberIds[0] ? deps.catalog.phoneNumber(numberIds[0]) : undefined;
    if (!first) return reply.code(404).send({ error: { code: 'unknown_sender', message: 'sender not in the catalogue' } });
    const business = deps.catalog.business(first.wabaId)!;
    const limit = deps.account.messagingLimit(first.wabaId);
    const used = await deps.limits.used(business.portfolioId);
    const fresh = await deps.limits.countNew(business.portfolioId, unique);
    const decision = admitCampaign({ newRecipients: fresh, knownRecipients: unique.length - fresh, limit, used, policy: deps.overflowPolicy });
    const perSender: Record<string, number> = {};
    if ('pool' in sender) for (const r of unique) perSender[pickSender(numberIds, r) ?? '?'] = (perSender[pickSender(numberIds, r) ?? '?'] ?? 0) + 1;
    return {
      id: req.params.id,
      portfolioId: business.portfolioId,
      limit,
      used,
      recipients: unique.length,
      newRecipients: fresh,
      ...decision,
      ...(Object.keys(perSender).length ? { perSender } : {}),
    };
  });

  app.get('/v1/senders', async () => {
    const senders = [];
    for (const n of deps.catalog.catalog.phoneNumbers) {
      const business = deps.catalog.business(n.wabaId)!;
      const rate = deps.limiter.rateOf(n.id);
      senders.push({
        phoneNumberId: n.id,
        wabaId: n.wabaId,
        portfolioId: business.portfolioId,
        rateLimitMps: rate.limitMps,
        maxThroughputMps: n.maxThroughputMps ?? null,
        targetMps: Math.round(rate.targetMps * 100) / 100,
        adaptiveFactor: rate.factor,
        quality: deps.account.quality(n.id) ?? null,
        messagingLimit: deps.account.messagingLimit(n.wabaId),
        // Where each value came from (catalogue, webhook, graph_api) and when.
        sources: {
          throughput: deps.account.phoneState?.(n.id).throughputMps ?? null,
          quality: deps.account.phoneState?.(n.id).quality ?? null,
          messagingLimit: deps.account.messagingLimitState?.(n.wabaId) ?? null,
        },
        messagingBudgetUsed: await deps.limits.used(business.portfolioId),
        accountPaused: deps.account.accountPaused(n.wabaId),
        // Meta's account_update: ban, restrictions (each until its expiry), violation; and what they hold now.
        standing: standingView(deps.account.standing?.(n.wabaId), Date.now()),
      });
    }
    return { senders };
  });

  // Each template as the gates see it now, with Meta's re-categorisation and quality score (webhooks).
  app.get('/v1/templates', async () => {
    const now = Date.now();
    const templates = deps.catalog.templates().map((t) => {
      const facts = deps.account.templateFacts?.(t.wabaId, t.name, t.language) ?? {};
      const live = liveTemplate(t, facts, now)!;
      const quality = deps.account.templateQuality?.(t.wabaId, t.name, t.language);
      return {
        wabaId: t.wabaId,
        name: t.name,
        language: t.language,
        source: t.source,
        status: live.status,
        category: live.category,
        categoryChange: facts.categoryChange ?? null,
        quality: quality ?? (t.quality !== undefined ? { score: t.quality } : null),
      };
    });
    return { templates };
  });

  app.post<{ Params: { wabaId: string } }>('/v1/accounts/:wabaId/resume', async (req, reply) => {
    if (!deps.catalog.business(req.params.wabaId)) return reply.code(404).send({ error: { code: 'unknown_account', message: 'not in the catalogue' } });
    await deps.account.resumeAccount(req.params.wabaId);
    return { wabaId: req.params.wabaId, paused: false };
  });

  return app;
}

/** The account's standing for GET /v1/senders: Meta's facts, and which sends they hold at `nowMs`. */
function standingView(standing: AccountStanding | undefined, nowMs: number) {
  const held = standingBlocks(standing, nowMs);
  const holds = [
    ...(held.all ? ['banned'] : []),
    ...(held.businessInitiated ? ['business_initiated'] : []),
    ...(held.customerInitiated ? ['customer_initiated'] : []),
  ];
  return { holds, ...(standing ?? {}) };
}
