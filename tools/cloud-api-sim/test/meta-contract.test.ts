import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PHONE, WABA, advance, makeSim, send, startReceiver, templateBody, textBody, type Received } from './helpers';

/**
 * The simulator's webhooks against the Meta contract corpus (shared/test/fixtures/meta, one payload
 * per kind with the Meta page it follows): every field the simulator sends in a change must appear in
 * a documented payload of the same field and item kind, so the product is never taught a field Meta
 * does not send.
 */
const FIXTURES = resolve(import.meta.dirname, '../../..', 'shared', 'test/fixtures/meta');

type Json = unknown;

/** Key paths of a value: `a.b`, arrays as `a[]`. Values not compared, only the shape. */
function paths(value: Json, prefix = '', out = new Set<string>()): Set<string> {
  if (Array.isArray(value)) {
    for (const v of value) paths(v, `${prefix}[]`, out);
  } else if (typeof value === 'object' && value !== null) {
    for (const [k, v] of Object.entries(value)) {
      const p = prefix === '' ? k : `${prefix}.${k}`;
      out.add(p);
      paths(v, p, out);
    }
  }
  return out;
}

/** One shape per item: a status, a message (per type), or an account change's value. */
function items(body: Json): { kind: string; shape: Set<string> }[] {
  const out: { kind: string; shape: Set<string> }[] = [];
  const entries = (body as { entry?: { changes?: { field: string; value: Record<string, Json> }[] }[] }).entry ?? [];
  for (const e of entries) {
    for (const c of e.changes ?? []) {
      if (c.field !== 'messages') {
        out.push({ kind: c.field, shape: paths(c.value) });
        continue;
      }
      for (const s of (c.value.statuses as Json[] | undefined) ?? []) out.push({ kind: 'messages.status', shape: paths(s) });
      for (const m of (c.value.messages as Record<string, Json>[] | undefined) ?? []) out.push({ kind: `messages.message.${String(m.type)}`, shape: paths(m) });
      const { statuses: _s, messages: _m, ...rest } = c.value;
      out.push({ kind: 'messages.value', shape: paths(rest) });
    }
  }
  return out;
}

function documentedShapes(): Map<string, Set<string>> {
  const shapes = new Map<string, Set<string>>();
  for (const file of readdirSync(FIXTURES).filter((f) => f.endsWith('.json'))) {
    const fixture = JSON.parse(readFileSync(join(FIXTURES, file), 'utf8')) as { payload: Json };
    for (const { kind, shape } of items(fixture.payload)) {
      const known = shapes.get(kind) ?? new Set<string>();
      for (const p of shape) known.add(p);
      shapes.set(kind, known);
    }
  }
  return shapes;
}

let cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  await Promise.all(cleanups.map((c) => c()));
  cleanups = [];
});

describe("the simulator's webhooks follow the Meta contract corpus", () => {
  it.each(['PMP', 'CBP'] as const)('statuses, inbound messages and account changes (%s) carry only documented fields', async (model) => {
    const rx = await startReceiver();
    const { sim, clock } = makeSim(
      { pricing: { model, pmpConversationObject: model === 'CBP' }, population: { notOnWhatsAppFraction: 0, readFraction: 1 } },
      rx.url,
    );
    cleanups.push(() => sim.close(), rx.close);
    await send(sim, templateBody('16505557000', 'order_update', { biz_opaque_callback_data: 'job-1' }));
    for (const [i, body] of [
      { type: 'text', text: 'hello' },
      { type: 'button', text: 'Stop promotions', payload: 'STOP' },
      { type: 'interactive', interactiveKind: 'button_reply', payload: 'yes', title: 'Yes' },
      { type: 'interactive', interactiveKind: 'list_reply', payload: 'express', title: 'Express' },
    ].entries()) {
      const r = await sim.app.inject({ method: 'POST', url: '/_sim/inbound', payload: { phoneNumberId: PHONE, from: `1650555710${i}`, ...body } });
      expect(r.statusCode).toBe(200);
    }
    await send(sim, textBody('16505557100'));
    for (const [type, payload] of [
      ['phone_number_quality_update', { phoneNumberId: PHONE, event: 'THROUGHPUT_UPGRADE' }],
      ['phone_number_quality_update', { phoneNumberId: PHONE, event: 'FLAGGED', quality: 'RED' }],
      ['phone_number_quality_update', { phoneNumberId: PHONE, event: 'DOWNGRADE', messagingLimit: 2000 }],
      ['message_template_status_update', { wabaId: WABA, name: 'order_update', event: 'PAUSED', reason: 'LOW_QUALITY' }],
      ['business_capability_update', { businessId: 'biz-1', messagingLimit: 100000 }],
    ] as const) {
      expect((await sim.app.inject({ method: 'POST', url: `/_sim/events/${type}`, payload })).statusCode).toBe(200);
    }
    await advance(sim, clock, 400);

    const documented = documentedShapes();
    const undocumented: string[] = [];
    const kinds = new Set<string>();
    for (const r of rx.received as Received[]) {
      for (const { kind, shape } of items(r.json)) {
        kinds.add(kind);
        const known = documented.get(kind);
        if (!known) {
          undocumented.push(`${kind}: no documented payload of this kind`);
          continue;
        }
        for (const p of shape) if (!known.has(p)) undocumented.push(`${kind}: ${p}`);
      }
    }
    expect([...new Set(undocumented)]).toEqual([]);
    for (const k of [
      'messages.status',
      'messages.message.text',
      'messages.message.button',
      'messages.message.interactive',
      'phone_number_quality_update',
      'message_template_status_update',
      'business_capability_update',
    ]) {
      expect(kinds.has(k), k).toBe(true);
    }
  });
});
