import { AUTH_INVALID, AUTH_MISSING, UNKNOWN_OBJECT, graphError, type GraphError } from './graph-errors';
import { CATEGORY } from './message-store';
import { checkTemplateSend } from './templates';
import type { ParsedMessage } from './validate';
import { templateKey, type PhoneState, type WabaState, type World } from './world';

/** The sending phone number for a bearer token, or the Graph error Meta answers with. */
export function resolveSender(world: World, phoneNumberId: string, authorization: string | undefined): PhoneState | GraphError {
  const token = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
  if (!token) return AUTH_MISSING();
  const waba = world.tokenToWaba.get(token);
  if (!waba) return AUTH_INVALID();
  const phone = world.phoneById.get(phoneNumberId);
  if (!phone || phone.waba !== waba) return UNKNOWN_OBJECT(phoneNumberId);
  return phone;
}

export interface ResolvedTemplate {
  /** Index in world.templates; -1 for a free-form message. */
  templateIdx: number;
  /** Index in CATEGORY; 0 (service) for a free-form message. */
  category: number;
}

const FREE_FORM: ResolvedTemplate = { templateIdx: -1, category: 0 };

/** The template a message names, checked for status and parameters against the WABA's copy. */
export function resolveTemplate(waba: WabaState, msg: ParsedMessage, body: unknown): ResolvedTemplate | GraphError {
  if (!msg.template) return FREE_FORM;
  const tpl = waba.templates.get(templateKey(msg.template.name, msg.template.language));
  if (!tpl || tpl.status === 'REJECTED' || tpl.status === 'PENDING_DELETION') {
    return graphError(132001, `template name (${msg.template.name}) does not exist in ${msg.template.language}`);
  }
  if (tpl.status === 'PAUSED') return graphError(132015);
  if (tpl.status === 'DISABLED') return graphError(132016);
  const mismatch = checkTemplateSend(tpl, (body as { template?: unknown }).template);
  if (mismatch) return mismatch;
  return { templateIdx: tpl.idx, category: CATEGORY.indexOf(tpl.category) };
}

/** The `200` body of an accepted send; a template message says whether it went out or is held (template pacing). */
export function acceptedBody(
  body: unknown,
  msg: ParsedMessage,
  wamid: string,
  messageStatus: 'accepted' | 'held_for_quality_assessment' = 'accepted',
): Record<string, unknown> {
  return {
    messaging_product: 'whatsapp',
    contacts: [{ input: typeof (body as { to?: unknown }).to === 'string' ? (body as { to: string }).to : msg.to, wa_id: msg.to }],
    messages: [msg.template ? { id: wamid, message_status: messageStatus } : { id: wamid }],
  };
}
