import Fastify, { type FastifyInstance } from 'fastify';
import { z } from 'zod';
import { errorEnvelope, graphError } from './graph-errors';
import { createLatencySampler } from './latency';
import type { AccountEventInput } from './account-events';
import type { SimCore } from './sim-core';
import { SimInputError } from './sim-input-error';
import { mediaInfo, registerMediaRoutes } from './media';
import { phoneNumberNode } from './phone-numbers';
import { messagingLimitSchema } from './scenario';
import { registerTemplateRoutes } from './template-routes';

const inboundSchema = z.object({
  phoneNumberId: z.string(),
  from: z.string(),
  type: z.enum(['text', 'button', 'interactive']).optional(),
  text: z.string().optional(),
  payload: z.string().optional(),
  title: z.string().optional(),
  interactiveKind: z.enum(['button_reply', 'list_reply']).optional(),
  contextId: z.string().optional(),
  profileName: z.string().optional(),
  referral: z.boolean().optional(),
});

const eventSchemas = {
  phone_number_quality_update: z.object({
    phoneNumberId: z.string(),
    event: z.string().default('FLAGGED'),
    quality: z.enum(['GREEN', 'YELLOW', 'RED']).optional(),
    messagingLimit: messagingLimitSchema.optional(),
    throughputMps: z.number().int().min(1).max(1000).optional(),
  }),
  business_capability_update: z.object({ businessId: z.string().optional(), wabaId: z.string().optional(), messagingLimit: messagingLimitSchema }),
  message_template_status_update: z.object({
    wabaId: z.string(),
    name: z.string(),
    language: z.string().optional(),
    event: z.string(),
    reason: z.string().optional(),
  }),
  account_update: z.object({ wabaId: z.string(), value: z.record(z.string(), z.unknown()) }),
} as const;

function badRequest(issues: z.core.$ZodIssue[]): { error: string; issues: { path: string; message: string }[] } {
  const list = issues.map((i) => ({ path: i.path.join('.') || '(root)', message: i.message }));
  return { error: list.map((i) => `${i.path}: ${i.message}`).join('; '), issues: list };
}

/** The fastify app: Meta's surface plus `/_sim/` ground truth and control. Does not listen. */
export function buildApp(core: SimCore, opts: { logger?: boolean } = {}): FastifyInstance {
  const app = Fastify({ logger: opts.logger ?? false, bodyLimit: 1024 * 1024, keepAliveTimeout: 65_000 });
  const latency = createLatencySampler(core.scenario.faults.latency, core.rng);
  const noLatency = core.scenario.faults.latency.kind === 'none';

  app.setErrorHandler((err, req, reply) => {
    const e = err as { statusCode?: number; code?: string; message: string };
    if (req.url.startsWith('/_sim/')) {
      void reply.code(e.statusCode && e.statusCode < 500 ? e.statusCode : 500).send({ error: e.message });
      return;
    }
    if (e.statusCode === 413) {
      void reply.code(413).send(errorEnvelope(graphError(100, 'Request body too large', { message: '(#100) Request body too large' })));
      return;
    }
    if (e.statusCode && e.statusCode < 500) {
      void reply.code(400).send(errorEnvelope(graphError(100, e.message, { message: '(#100) Invalid parameter' })));
      return;
    }
    void reply.code(500).send(errorEnvelope(graphError(1, e.message, { message: 'An unknown error has occurred.' })));
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.code(400).send({
      error: { message: `Unknown path components: ${req.url.split('?')[0]}`, type: 'OAuthException', code: 2500, fbtrace_id: 'Asim' },
    });
  });

  app.post<{ Params: { version: string; phoneNumberId: string } }>('/:version/:phoneNumberId/messages', async (req, reply) => {
    if (!/^v\d+\.\d+$/.test(req.params.version)) {
      return reply
        .code(400)
        .send({ error: { message: `Unknown path components: /${req.params.version}`, type: 'OAuthException', code: 2500, fbtrace_id: 'Asim' } });
    }
    const res = core.send(req.params.phoneNumberId, req.headers.authorization, req.body);
    if (!noLatency) {
      const ms = latency();
      if (ms > 0) await new Promise((r) => setTimeout(r, ms));
    }
    return reply.code(res.httpStatus).send(res.body);
  });

  app.get<{ Params: { version: string; phoneNumberId: string } }>('/:version/:phoneNumberId', async (req, reply) => {
    const media = mediaInfo(core, req.params.phoneNumberId, req.headers.authorization, `${req.protocol}://${req.host}`);
    if (media) return reply.code(media.status).send(media.body);
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
    const waba = token ? core.world.tokenToWaba.get(token) : undefined;
    if (!waba)
      return reply
        .code(401)
        .send(errorEnvelope(graphError(190, 'Invalid OAuth access token', { message: 'Invalid OAuth access token - Cannot parse access token' })));
    const phone = core.world.phoneById.get(req.params.phoneNumberId);
    if (!phone || phone.waba !== waba) return reply.code(400).send(errorEnvelope(graphError(100, 'Object does not exist', { subcode: 33 })));
    return phoneNumberNode(phone, (req.query as { fields?: string } | undefined)?.fields);
  });

  registerTemplateRoutes(app, core);
  registerMediaRoutes(app, core);

  // ── ground truth and control (not Meta's surface) ──
  app.get('/_sim/stats', async () => core.stats());
  app.post('/_sim/reset', async () => {
    core.resetState();
    return { ok: true };
  });
  app.get<{ Params: { wamid: string } }>('/_sim/messages/:wamid', async (req, reply) => {
    const m = core.message(req.params.wamid);
    return m ? m : reply.code(404).send({ error: 'unknown wamid' });
  });
  app.get('/_sim/world', async () => ({
    appSecret: core.scenario.appSecret,
    pricingModel: core.scenario.pricing.model,
    errorDelivery: core.scenario.errorDelivery,
    businesses: core.world.businesses.map((b) => ({
      id: b.id,
      messagingLimit: b.messagingLimit,
      wabas: core.world.wabas
        .filter((w) => w.business === b)
        .map((w) => ({
          id: w.id,
          accessTokens: [...core.world.tokenToWaba].filter(([, x]) => x === w).map(([t]) => t),
          phoneNumbers: core.world.phones
            .filter((p) => p.waba === w)
            .map((p) => ({ id: p.id, displayPhoneNumber: p.displayPhoneNumber, throughputMps: p.throughputMps, quality: p.quality })),
          templates: [...w.templates.values()].map((t) => ({
            name: t.name,
            language: t.language,
            category: t.category,
            status: t.status,
            params: t.params,
            parameterFormat: t.parameterFormat,
            components: t.components,
          })),
        })),
    })),
  }));
  app.get<{ Params: { digits: string } }>('/_sim/people/:digits', async (req) => ({ digits: req.params.digits, ...core.person(req.params.digits) }));
  app.put<{ Body: { url?: string | null } }>('/_sim/webhook', async (req, reply) => {
    const url = req.body?.url;
    if (url !== null && url !== undefined && !/^https?:\/\//.test(url)) return reply.code(400).send({ error: 'url: must be http(s) or null' });
    core.webhookUrl = url ?? undefined;
    return { url: core.webhookUrl ?? null };
  });
  app.get('/_sim/webhooks/abandoned', async () => core.sender.abandoned());
  app.post('/_sim/inbound', async (req, reply) => {
    const r = inboundSchema.safeParse(req.body);
    if (!r.success) return reply.code(400).send(badRequest(r.error.issues));
    try {
      return core.inbound(r.data);
    } catch (err) {
      if (err instanceof SimInputError) return reply.code(400).send({ error: err.message });
      throw err;
    }
  });
  app.post<{ Params: { type: string } }>('/_sim/events/:type', async (req, reply) => {
    const schema = eventSchemas[req.params.type as keyof typeof eventSchemas];
    if (!schema) return reply.code(404).send({ error: `unknown event type ${req.params.type}; one of ${Object.keys(eventSchemas).join(', ')}` });
    const r = schema.safeParse(req.body);
    if (!r.success) return reply.code(400).send(badRequest(r.error.issues));
    try {
      core.accountEvent({ type: req.params.type, ...r.data } as AccountEventInput);
      return { ok: true };
    } catch (err) {
      if (err instanceof SimInputError) return reply.code(400).send({ error: err.message });
      throw err;
    }
  });
  app.post('/_sim/tick', async () => {
    core.tick();
    return { ok: true };
  });
  return app;
}
