/**
 * Meta-shaped webhook payloads for tests and the benchmark, following the shapes in
 * docs/meta-contract.md (Meta's webhook payloads, with their source pages).
 */
import { signBody } from '../src/domain/signature';

export const WABA_ID = '102290129340398';
export const PHONE_NUMBER_ID = '106540352242922';
export const DISPLAY_NUMBER = '15550783881';

type Obj = Record<string, unknown>;

export function envelope(changes: { field: string; value: Obj }[], options: { wabaId?: string; time?: number } = {}): Obj {
  const entry: Obj = { id: options.wabaId ?? WABA_ID, changes };
  if (options.time !== undefined) entry.time = options.time;
  return { object: 'whatsapp_business_account', entry: [entry] };
}

export function messagesValue(parts: { statuses?: Obj[]; messages?: Obj[]; contacts?: Obj[] }, phoneNumberId = PHONE_NUMBER_ID): Obj {
  return {
    messaging_product: 'whatsapp',
    metadata: { display_phone_number: DISPLAY_NUMBER, phone_number_id: phoneNumberId },
    ...parts,
  };
}

export interface StatusOptions {
  wamid: string;
  status: 'sent' | 'delivered' | 'read' | 'failed';
  timestamp: number;
  recipient?: string;
  jobId?: string;
  pricing?: 'CBP' | 'PMP' | 'none';
  category?: string;
  errorCode?: number;
}

export function status(o: StatusOptions): Obj {
  const s: Obj = { id: o.wamid, status: o.status, timestamp: String(o.timestamp), recipient_id: o.recipient ?? '16505551234' };
  if (o.jobId !== undefined) s.biz_opaque_callback_data = o.jobId;
  const category = o.category ?? 'utility';
  if (o.pricing === 'CBP') {
    s.conversation = { id: `conv-${o.wamid.slice(-8)}`, origin: { type: category }, expiration_timestamp: String(o.timestamp + 86_400) };
    s.pricing = { billable: true, pricing_model: 'CBP', category };
  } else if (o.pricing === 'PMP') {
    s.pricing = { billable: true, pricing_model: 'PMP', category, type: 'regular' };
  }
  if (o.status === 'failed') {
    s.errors = [
      { code: o.errorCode ?? 131026, title: 'Message undeliverable', message: 'Message undeliverable', error_data: { details: 'recipient not on WhatsApp' } },
    ];
  }
  return s;
}

export function statusPayload(statuses: Obj[], phoneNumberId = PHONE_NUMBER_ID): Obj {
  return envelope([{ field: 'messages', value: messagesValue({ statuses }, phoneNumberId) }]);
}

export function inboundText(o: { wamid: string; from: string; text: string; timestamp: number; phoneNumberId?: string }): Obj {
  return envelope([
    {
      field: 'messages',
      value: messagesValue(
        {
          contacts: [{ profile: { name: 'Ana' }, wa_id: o.from }],
          messages: [{ from: o.from, id: o.wamid, timestamp: String(o.timestamp), type: 'text', text: { body: o.text } }],
        },
        o.phoneNumberId,
      ),
    },
  ]);
}

export function inboundButton(o: { wamid: string; from: string; timestamp: number; text: string; payload: string; contextWamid: string }): Obj {
  return envelope([
    {
      field: 'messages',
      value: messagesValue({
        contacts: [{ profile: { name: 'Ana' }, wa_id: o.from }],
        messages: [
          {
            context: { from: DISPLAY_NUMBER, id: o.contextWamid },
            from: o.from,
            id: o.wamid,
            timestamp: String(o.timestamp),
            type: 'button',
            button: { text: o.text, payload: o.payload },
          },
        ],
      }),
    },
  ]);
}

export function inboundInteractive(o: { wamid: string; from: string; timestamp: number; replyId: string; title: string; list?: boolean }): Obj {
  const reply = { id: o.replyId, title: o.title };
  const interactive = o.list ? { type: 'list_reply', list_reply: { ...reply, description: 'd' } } : { type: 'button_reply', button_reply: reply };
  return envelope([
    {
      field: 'messages',
      value: messagesValue({
        contacts: [{ profile: { name: 'Ana' }, wa_id: o.from }],
        messages: [{ from: o.from, id: o.wamid, timestamp: String(o.timestamp), type: 'interactive', interactive }],
      }),
    },
  ]);
}

export function templateStatusUpdate(o: { name: string; language: string; event: string; reason?: string; time: number; wabaId?: string }): Obj {
  return envelope(
    [
      {
        field: 'message_template_status_update',
        value: {
          event: o.event,
          message_template_id: 594425479261596,
          message_template_name: o.name,
          message_template_language: o.language,
          reason: o.reason ?? 'NONE',
        },
      },
    ],
    { time: o.time, ...(o.wabaId !== undefined ? { wabaId: o.wabaId } : {}) },
  );
}

export function qualityUpdate(o: { event: string; currentLimit?: string; time: number; wabaId?: string; phoneNumberId?: string; display?: string }): Obj {
  const value: Obj = { display_phone_number: o.display ?? DISPLAY_NUMBER, event: o.event };
  if (o.currentLimit !== undefined) value.current_limit = o.currentLimit;
  if (o.phoneNumberId !== undefined) value.phone_number_id = o.phoneNumberId;
  return envelope([{ field: 'phone_number_quality_update', value }], { time: o.time, ...(o.wabaId !== undefined ? { wabaId: o.wabaId } : {}) });
}

export function capabilityUpdate(o: { limit: number | string; time: number; wabaId?: string }): Obj {
  return envelope([{ field: 'business_capability_update', value: { max_daily_conversations_per_business: o.limit, max_phone_numbers_per_business: 2 } }], {
    time: o.time,
    ...(o.wabaId !== undefined ? { wabaId: o.wabaId } : {}),
  });
}

export function pricingTierUpdate(o: { time: number; tier: string; wabaId?: string }): Obj {
  return envelope(
    [
      {
        field: 'account_update',
        value: {
          event: 'VOLUME_BASED_PRICING_TIER_UPDATE',
          volume_tier_info: { tier_update_time: o.time, pricing_category: 'UTILITY', tier: o.tier, effective_month: '2025-08' },
        },
      },
    ],
    { time: o.time, ...(o.wabaId !== undefined ? { wabaId: o.wabaId } : {}) },
  );
}

export interface SignedRequest {
  body: Buffer;
  headers: Record<string, string>;
}

/** Serialises like Meta (non-ASCII escaped as \uXXXX) and signs the exact bytes. */
export function signed(payload: Obj | string | Buffer, secret: string): SignedRequest {
  const text = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(
        typeof payload === 'string'
          ? payload
          : JSON.stringify(payload).replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`),
      );
  return { body: text, headers: { 'content-type': 'application/json', 'x-hub-signature-256': signBody(text, secret), 'user-agent': 'facebookexternalua' } };
}

let seq = 0;
/** A wamid unique within the process. */
export function wamid(tag = 'x'): string {
  seq += 1;
  return `wamid.HBgL${tag}${Date.now().toString(36)}${seq.toString(36)}${Math.random().toString(36).slice(2, 8)}`;
}
