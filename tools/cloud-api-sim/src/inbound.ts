import type { Person } from './population';
import type { ParsedMessage } from './validate';
import type { PhoneState } from './world';

export interface InboundInput {
  phoneNumberId: string;
  from: string;
  type?: 'text' | 'button' | 'interactive';
  text?: string;
  /** Button payload or interactive reply id. */
  payload?: string;
  title?: string;
  interactiveKind?: 'button_reply' | 'list_reply';
  contextId?: string;
  profileName?: string;
  /** Came from a click-to-WhatsApp ad: opens a 72 h free entry point window too. */
  referral?: boolean;
}

/** STOP/UNSUBSCRIBE opts a person out of marketing, START back in; undefined for any other message. */
export function optOutKeyword(input: InboundInput): boolean | undefined {
  const type = input.type ?? 'text';
  const keyword = type === 'text' ? (input.text ?? input.title ?? '').trim().toUpperCase() : '';
  if (keyword === 'STOP' || keyword === 'UNSUBSCRIBE') return true;
  if (keyword === 'START') return false;
  return undefined;
}

/** A wamid shaped like Meta's inbound ones: sender digits, a random part and a sequence number. */
export function inboundWamid(from: string, random: number, seq: number): string {
  return `wamid.HBgL${Buffer.from(from).toString('base64').replace(/=+$/, '')}FQIAEhgg${Math.floor(random * 2 ** 48)
    .toString(16)
    .toUpperCase()
    .padStart(12, '0')}${seq.toString(16).toUpperCase().padStart(8, '0')}`;
}

/** The `messages[]` entry of an inbound webhook. */
export function inboundMessage(input: InboundInput, phone: PhoneState, from: string, id: string, now: number): Record<string, unknown> {
  const type = input.type ?? 'text';
  const text = input.text ?? input.title ?? '';
  const m: Record<string, unknown> = { from, id, timestamp: String(Math.floor(now / 1000)) };
  if (input.contextId) m.context = { from: phone.displayPhoneNumber, id: input.contextId };
  if (type === 'button') {
    m.type = 'button';
    m.button = { payload: input.payload ?? text, text: input.title ?? text };
  } else if (type === 'interactive') {
    const kind = input.interactiveKind ?? 'button_reply';
    m.type = 'interactive';
    m.interactive = { type: kind, [kind]: { id: input.payload ?? 'reply', title: input.title ?? text } };
  } else {
    m.type = 'text';
    m.text = { body: text || 'Hi' };
  }
  if (input.referral) m.referral = { source_type: 'ad', source_id: '120200000000000', source_url: 'https://fb.me/sim', ctwa_clid: 'sim' };
  return m;
}

/** What a person who replies sends back: STOP to marketing if they say it, else the first reply option, button or a thanks. */
export function personReply(person: Person, phone: PhoneState, msg: ParsedMessage, category: string, contextId: string): InboundInput {
  const base = { phoneNumberId: phone.id, from: msg.to, contextId };
  const tpl = msg.template;
  if (person.saysStop && category === 'marketing') return { ...base, text: 'STOP' };
  if (msg.replyOptions && msg.replyOptions.length > 0) {
    const o = msg.replyOptions[0]!;
    return { ...base, type: 'interactive', payload: o.id, title: o.title };
  }
  if (tpl && tpl.buttons.size > 0) return { ...base, type: 'button', payload: `${tpl.name}:0`, title: 'Yes' };
  return { ...base, text: 'Thanks' };
}
