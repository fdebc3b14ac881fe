import { HIGH_MPS, THROUGHPUT_EVENTS, qualityAfter, qualityUpdateValue } from './phone-numbers';
import type { Scenario } from './scenario';
import type { SendLimits } from './send-limits';
import { SimInputError } from './sim-input-error';
import { templateKey, type World } from './world';

export type AccountEventInput =
  | {
      type: 'phone_number_quality_update';
      phoneNumberId: string;
      event: string;
      quality?: 'GREEN' | 'YELLOW' | 'RED';
      messagingLimit?: Scenario['businesses'][number]['messagingLimit'];
      /** Throughput upgrade (Meta raises numbers to 1,000 mps automatically). */
      throughputMps?: number;
    }
  | { type: 'business_capability_update'; businessId?: string; wabaId?: string; messagingLimit: Scenario['businesses'][number]['messagingLimit'] }
  | { type: 'message_template_status_update'; wabaId: string; name: string; language?: string; event: string; reason?: string }
  | { type: 'account_update'; wabaId: string; value: Record<string, unknown> };

/** Posts an account webhook change: (WABA id, field, value). */
export type PostAccountChange = (wabaId: string, field: string, value: Record<string, unknown>) => void;

/** Applies an account event to the enforced world (qualities, limits, throughput, template statuses) and posts its webhook. */
export function applyAccountEvent(e: AccountEventInput, world: World, limits: SendLimits, post: PostAccountChange): void {
  switch (e.type) {
    case 'phone_number_quality_update': {
      const phone = world.phoneById.get(e.phoneNumberId);
      if (!phone) throw new SimInputError('phoneNumberId', `unknown phone number id ${e.phoneNumberId}`);
      const quality = e.quality ?? qualityAfter(e.event);
      if (quality) phone.quality = quality;
      const mps = e.throughputMps ?? (THROUGHPUT_EVENTS.has(e.event) ? HIGH_MPS : undefined);
      if (mps !== undefined) {
        phone.throughputMps = mps;
        limits.setThroughput(phone, mps);
      }
      const biz = phone.waba.business;
      const oldLimit = biz.messagingLimit;
      if (e.messagingLimit !== undefined) biz.messagingLimit = e.messagingLimit;
      post(phone.waba.id, 'phone_number_quality_update', qualityUpdateValue(phone, e.event, oldLimit, biz.messagingLimit));
      return;
    }
    case 'business_capability_update': {
      const biz = e.businessId ? world.businessById.get(e.businessId) : e.wabaId ? world.wabaById.get(e.wabaId)?.business : undefined;
      if (!biz) throw new SimInputError(e.businessId ? 'businessId' : 'wabaId', 'unknown business / WABA');
      biz.messagingLimit = e.messagingLimit;
      const n = e.messagingLimit === 'unlimited' ? -1 : e.messagingLimit;
      for (const waba of world.wabas.filter((w) => w.business === biz)) {
        post(waba.id, 'business_capability_update', {
          max_daily_conversations_per_business: n,
          ...(n === 250 ? { max_phone_numbers_per_business: 2 } : { max_phone_numbers_per_waba: 25 }),
        });
      }
      return;
    }
    case 'message_template_status_update': {
      const waba = world.wabaById.get(e.wabaId);
      if (!waba) throw new SimInputError('wabaId', `unknown WABA ${e.wabaId}`);
      const language = e.language ?? 'en_US';
      const tpl = waba.templates.get(templateKey(e.name, language));
      if (!tpl) throw new SimInputError('name', `unknown template ${e.name}/${language}`);
      const status = e.event === 'REINSTATED' || e.event === 'UNPAUSED' ? 'APPROVED' : e.event;
      if (status === 'APPROVED' || status === 'PAUSED' || status === 'DISABLED' || status === 'REJECTED' || status === 'PENDING_DELETION') tpl.status = status;
      const value: Record<string, unknown> = {
        event: e.event,
        message_template_id: Number(tpl.id),
        message_template_name: tpl.name,
        message_template_language: tpl.language,
        reason: e.reason ?? 'NONE',
      };
      if (e.event === 'PAUSED')
        value.other_info = {
          title: 'FIRST_PAUSE',
          description: 'Your WhatsApp message template has been paused for 3 hours until Jan 1 at 12:00 AM UTC because it had issues.',
        };
      post(waba.id, 'message_template_status_update', value);
      return;
    }
    case 'account_update': {
      const waba = world.wabaById.get(e.wabaId);
      if (!waba) throw new SimInputError('wabaId', `unknown WABA ${e.wabaId}`);
      // A ban locks the account's sends until Meta reinstates it (account_update reference).
      const ban = e.value.event === 'DISABLED_UPDATE' ? (e.value.ban_info as { waba_ban_state?: unknown } | undefined)?.waba_ban_state : undefined;
      if (ban === 'DISABLE') waba.banned = true;
      if (ban === 'REINSTATE') waba.banned = false;
      post(waba.id, 'account_update', e.value);
      return;
    }
  }
}
