import { createHmac } from 'node:crypto';
import type { PreparedRequest } from './http-load';

const PHONE_IDS = ['106540352242922', '106540352242923'];
const CATEGORIES = ['utility', 'marketing', 'authentication'];
const T0 = Math.floor(Date.now() / 1000);
let seq = 0;

function statusObj(): Record<string, unknown> {
  seq += 1;
  const r = Math.random();
  const st = r < 0.35 ? 'sent' : r < 0.7 ? 'delivered' : r < 0.97 ? 'read' : 'failed';
  const category = CATEGORIES[seq % 3]!;
  const s: Record<string, unknown> = {
    id: `wamid.HBgLMTY1MDU1NTEyMzQVAgARGBI${seq.toString(16).toUpperCase().padStart(12, '0')}`,
    status: st,
    timestamp: String(T0 + (seq % 600)),
    recipient_id: `1650555${String(seq % 10_000).padStart(4, '0')}`,
    biz_opaque_callback_data: `job-${seq}`,
  };
  if (st !== 'failed') {
    s.pricing = { billable: category !== 'service', pricing_model: 'PMP', category, type: 'regular' };
  } else {
    s.errors = [{ code: 131026, title: 'Message undeliverable', message: 'Message undeliverable', error_data: { details: 'Message Undeliverable.' } }];
  }
  return s;
}

export const PAYLOAD_MIX = '75% single status, 20% batched 2–10 statuses, 5% inbound text; PMP pricing; ~3% failed';

/** A distinct Cloud API webhook body in Meta's shape and escaping (PAYLOAD_MIX). */
export function webhookPayload(): string {
  const r = Math.random();
  const phone = PHONE_IDS[seq % 2]!;
  const metadata = { display_phone_number: phone === PHONE_IDS[0] ? '15550783881' : '15550783882', phone_number_id: phone };
  let value: Record<string, unknown>;
  if (r < 0.05) {
    seq += 1;
    const from = `4479${String(seq % 100_000).padStart(8, '0')}`;
    value = {
      messaging_product: 'whatsapp',
      metadata,
      contacts: [{ profile: { name: 'Zoë' }, wa_id: from }],
      messages: [
        { from, id: `wamid.IN${seq.toString(16)}`, timestamp: String(T0), type: 'text', text: { body: seq % 10 === 0 ? 'STOP' : 'Où est ma commande ?' } },
      ],
    };
  } else {
    const n = r < 0.8 ? 1 : 2 + Math.floor(Math.random() * 9); // 20% batched, 2–10 statuses
    value = { messaging_product: 'whatsapp', metadata, statuses: Array.from({ length: n }, statusObj) };
  }
  const body = { object: 'whatsapp_business_account', entry: [{ id: '102290129340398', changes: [{ value, field: 'messages' }] }] };
  // Meta escapes non-ASCII and "/": the signature must be over these exact bytes.
  return JSON.stringify(body)
    .replace(/[\u007f-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    .replace(/\//g, '\\/');
}

/** POST /webhook of `body` signed with `secret` as Meta signs it (X-Hub-Signature-256 over the exact bytes). */
export function signedWebhookRequest(body: string, secret: string): PreparedRequest {
  return {
    path: '/webhook',
    headers: {
      'content-type': 'application/json',
      'x-hub-signature-256': `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`,
      'user-agent': 'facebookexternalua',
    },
    body,
  };
}
