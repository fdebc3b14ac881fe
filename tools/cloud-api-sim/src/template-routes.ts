import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { errorEnvelope, graphError } from './graph-errors';
import type { SimCore } from './sim-core';
import { listTemplates, templateJson } from './templates';
import { templateKey, type TemplateState, type TemplateStatus } from './world';

const upsertSchema = z.object({
  wabaId: z.string(),
  name: z.string().regex(/^[a-z0-9_]{1,512}$/),
  language: z.string().default('en_US'),
  category: z.enum(['marketing', 'utility', 'authentication']).optional(),
  status: z.enum(['APPROVED', 'PAUSED', 'DISABLED', 'REJECTED', 'PENDING_DELETION']).optional(),
  components: z.array(z.record(z.string(), z.unknown())).optional(),
  parameterFormat: z.enum(['POSITIONAL', 'NAMED']).optional(),
  quality: z.enum(['GREEN', 'YELLOW', 'RED', 'UNKNOWN']).optional(),
});

/**
 * Meta's template listing (`GET /{version}/{waba-id}/message_templates`) and the simulator's control
 * to create or change a template (`PUT /_sim/templates`): a new parameter, a pause, a re-categorisation.
 * A status change posts `message_template_status_update` and a category change `template_category_update`
 * (developers.facebook.com/docs/whatsapp/business-management-api/webhooks/components), as Meta does.
 */
export function registerTemplateRoutes(app: FastifyInstance, core: SimCore): void {
  app.get<{ Params: { version: string; wabaId: string }; Querystring: Record<string, unknown> }>('/:version/:wabaId/message_templates', async (req, reply) => {
    const auth = req.headers.authorization;
    const token = auth?.startsWith('Bearer ') ? auth.slice(7).trim() : undefined;
    const waba = token ? core.world.tokenToWaba.get(token) : undefined;
    if (!waba)
      return reply
        .code(401)
        .send(errorEnvelope(graphError(190, 'Invalid OAuth access token', { message: 'Invalid OAuth access token - Cannot parse access token' })));
    if (waba.id !== req.params.wabaId) {
      return reply
        .code(400)
        .send(
          errorEnvelope(
            graphError(
              100,
              `Unsupported get request. Object with ID '${req.params.wabaId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation`,
              { subcode: 33 },
            ),
          ),
        );
    }
    const self = `${req.protocol}://${req.host}${req.url}`;
    return listTemplates(waba, req.query, self);
  });

  app.put('/_sim/templates', async (req, reply) => {
    const r = upsertSchema.safeParse(req.body);
    if (!r.success) return reply.code(400).send({ error: r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ') });
    const u = r.data;
    const waba = core.world.wabaById.get(u.wabaId);
    if (!waba) return reply.code(400).send({ error: `wabaId: unknown WABA ${u.wabaId}` });
    let tpl = waba.templates.get(templateKey(u.name, u.language));
    if (!tpl) {
      if (!u.category || !u.components) return reply.code(400).send({ error: 'a new template needs category and components' });
      tpl = {
        idx: core.world.templates.length,
        id: String(9_100_000_000_000 + core.world.templates.length),
        name: u.name,
        language: u.language,
        category: u.category,
        params: { header: 0, body: 0, buttons: [] },
        status: 'APPROVED',
        components: u.components,
        parameterFormat: u.parameterFormat ?? 'POSITIONAL',
        quality: u.quality ?? 'UNKNOWN',
      } satisfies TemplateState;
      core.world.templates.push(tpl);
      waba.templates.set(templateKey(u.name, u.language), tpl);
    }
    if (u.components) tpl.components = u.components;
    if (u.parameterFormat) tpl.parameterFormat = u.parameterFormat;
    if (u.quality) tpl.quality = u.quality;
    if (u.category && u.category !== tpl.category) {
      tpl.previousCategory = tpl.category;
      tpl.category = u.category;
      core.post(
        waba.id,
        'template_category_update',
        {
          message_template_id: Number(tpl.id),
          message_template_name: tpl.name,
          message_template_language: tpl.language,
          previous_category: tpl.previousCategory.toUpperCase(),
          new_category: tpl.category.toUpperCase(),
        },
        'account',
        1,
        true,
      );
    }
    if (u.status && u.status !== tpl.status)
      core.accountEvent({ type: 'message_template_status_update', wabaId: waba.id, name: tpl.name, language: tpl.language, event: u.status as TemplateStatus });
    return templateJson(tpl);
  });
}
