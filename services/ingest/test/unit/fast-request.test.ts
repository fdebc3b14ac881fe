import { describe, expect, it } from 'vitest';
import { notificationRequestV1 } from '@wa/shared/contracts/notification-request';
import { decodeJson } from '@wa/shared/decode';
import { decodeRequest, fastRequest } from '../../src/domain/fast-request';

// decodeRequest answers common request shapes without zod; whatever it answers must be exactly
// zod's answer (same success, same output including key order), and everything else is zod's.
const valid: Record<string, unknown>[] = [
  {
    v: 1,
    idempotencyKey: 'k-1',
    sender: { phoneNumberId: '106540352242922' },
    to: '+4915112345678',
    template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1', 'shipped'] },
    campaignId: 'bench',
  },
  {
    v: 1,
    idempotencyKey: 'k-2',
    sender: { phoneNumberId: '106540352242922' },
    to: '+4915112345678',
    template: { name: 'spring_sale', language: 'en_US', category: 'marketing', headerParams: ['Spring'], bodyParams: ['20%'] },
    priority: 'bulk',
    quietHours: true,
  },
  {
    v: 1,
    idempotencyKey: 'k-3',
    sender: { pool: 'acme-main' },
    to: '4915112345678',
    template: {
      name: 'otp_code',
      language: 'en',
      category: 'authentication',
      bodyParams: ['123456'],
      buttonParams: [{ index: 0, subType: 'url', text: '123456' }],
    },
  },
  {
    v: 1,
    idempotencyKey: 'k-4',
    sender: { pool: 'acme-main' },
    recipients: ['+4915112345678', '+4915112345679'],
    template: { name: 'order_update', language: 'en_US', category: 'utility' },
    priority: 'high',
  },
  // Keys in another order and unknown keys in the (non-strict) template and button objects.
  {
    campaignId: 'c',
    template: {
      bodyParams: ['a', 'b'],
      category: 'utility',
      extra: 1,
      language: 'en_US',
      name: 'order_update',
      buttonParams: [{ text: 'x', subType: 'quick_reply', index: 9, z: 1 }],
    },
    to: '+49',
    sender: { phoneNumberId: '1' },
    idempotencyKey: 'k',
    v: 1,
    quietHours: false,
  },
];
/** Every limit at its maximum; `overLimit` variants cross one limit each (mutating this one whole would be slow). */
const atLimits = {
  v: 1,
  idempotencyKey: 'x'.repeat(200),
  sender: { phoneNumberId: '1'.repeat(32) },
  to: '1'.repeat(32),
  template: {
    name: 'a'.repeat(512),
    language: 'deu_DE',
    category: 'marketing',
    headerParams: [''],
    bodyParams: Array(100).fill('y'.repeat(1024)),
    buttonParams: Array(10).fill({ index: 1, subType: 'copy_code', text: 'z'.repeat(2000) }),
  },
  campaignId: 'c'.repeat(128),
};
const t = atLimits.template;
const overLimit = [
  { ...atLimits, idempotencyKey: 'x'.repeat(201) },
  { ...atLimits, sender: { phoneNumberId: '1'.repeat(33) } },
  { ...atLimits, to: '1'.repeat(33) },
  { ...atLimits, campaignId: 'c'.repeat(129) },
  { ...atLimits, template: { ...t, name: 'a'.repeat(513) } },
  { ...atLimits, template: { ...t, headerParams: ['', ''] } },
  { ...atLimits, template: { ...t, bodyParams: [...t.bodyParams, 'y'] } },
  { ...atLimits, template: { ...t, bodyParams: ['y'.repeat(1025)] } },
  { ...atLimits, template: { ...t, buttonParams: [...t.buttonParams, t.buttonParams[0]] } },
  { ...atLimits, template: { ...t, buttonParams: [{ index: 1, subType: 'copy_code', text: 'z'.repeat(2001) }] } },
  { ...atLimits, template: { ...t, buttonParams: [{ index: 10, subType: 'copy_code', text: 'z' }] } },
  { ...atLimits, recipients: Array(10_001).fill('+4915112345678'), to: undefined },
];

const badValues: unknown[] = [
  undefined,
  null,
  0,
  1,
  -1,
  1.5,
  10,
  '',
  'x',
  'x'.repeat(33),
  'x'.repeat(2001),
  true,
  false,
  [],
  ['x'],
  {},
  { a: 1 },
  [{}],
  Array(101).fill('a'),
  Array(11).fill({ index: 0, subType: 'url', text: 't' }),
];

function* mutations(base: Record<string, unknown>): Generator<unknown> {
  const paths: string[][] = [];
  const walk = (o: unknown, path: string[]) => {
    if (o === null || typeof o !== 'object') return;
    for (const k of Object.keys(o)) {
      paths.push([...path, k]);
      walk((o as Record<string, unknown>)[k], [...path, k]);
    }
  };
  walk(base, []);
  // Includes the rich template and button keys zod knows (header, namedParams, …): the fast path must leave those to zod.
  const extraKeys = [
    'extra',
    '__proto__',
    'text',
    'audience',
    'recipients',
    'to',
    'coalesce',
    'notBefore',
    'metadata',
    'fallbackTemplate',
    'pool',
    'phoneNumberId',
    'header',
    'namedParams',
    'cards',
    'limitedTimeOffer',
    'flowToken',
    'thumbnailProductRetailerId',
  ];
  for (const path of paths) {
    for (const bad of badValues) yield setPath(base, path, bad);
    yield deletePath(base, path);
  }
  for (const path of [[], ...paths]) for (const key of extraKeys) yield setPath(base, [...path, key], 'x');
  yield base;
}

function clone<T>(v: T): T {
  return JSON.parse(JSON.stringify(v)) as T;
}
function setPath(base: unknown, path: string[], value: unknown): unknown {
  const copy = clone(base) as Record<string, unknown>;
  let o: Record<string, unknown> = copy;
  for (const k of path.slice(0, -1)) {
    if (o[k] === null || typeof o[k] !== 'object') return copy;
    o = o[k] as Record<string, unknown>;
  }
  if (path.length === 0) return copy;
  if (path[path.length - 1] === '__proto__') Object.defineProperty(o, '__proto__', { value, enumerable: true, configurable: true, writable: true });
  else o[path[path.length - 1]!] = value;
  return copy;
}
function deletePath(base: unknown, path: string[]): unknown {
  const copy = clone(base) as Record<string, unknown>;
  let o: Record<string, unknown> = copy;
  for (const k of path.slice(0, -1)) o = o[k] as Record<string, unknown>;
  delete o[path[path.length - 1]!];
  return copy;
}

describe('fast request check', () => {
  it('answers only what zod answers, with zod’s output, over valid requests and their mutations', () => {
    let fast = 0;
    let compared = 0;
    for (const base of valid) {
      for (const candidate of mutations(base)) {
        // Through JSON, as records arrive (drops undefined, keeps an own __proto__ key as text).
        const text = candidate === undefined ? 'null' : JSON.stringify(candidate);
        const input = JSON.parse(text) as unknown;
        const zod = notificationRequestV1.safeParse(input);
        const quick = fastRequest(input);
        compared++;
        if (quick) {
          fast++;
          expect(zod.success, text).toBe(true);
          expect(JSON.stringify(quick), text).toBe(JSON.stringify(zod.data));
          expect(quick, text).toEqual(zod.data);
        }
        const bytes = Buffer.from(text);
        expect(decodeRequest(bytes, 1 << 20), text).toEqual(decodeJson(notificationRequestV1, bytes, 1 << 20));
      }
    }
    for (const candidate of [atLimits, { ...atLimits, recipients: Array(10_000).fill('+4915112345678'), to: undefined }, ...overLimit]) {
      const input = JSON.parse(JSON.stringify(candidate)) as unknown;
      const zod = notificationRequestV1.safeParse(input);
      const quick = fastRequest(input);
      expect(quick !== undefined, JSON.stringify(candidate).slice(0, 200)).toBe(zod.success);
      if (quick) expect(JSON.stringify(quick)).toBe(JSON.stringify(zod.data));
    }
    expect(compared).toBeGreaterThan(2_000);
    expect(fast).toBeGreaterThan(100);
    for (const base of valid) expect(fastRequest(base), JSON.stringify(base)).toBeDefined();
  });

  it('dead-letters the same way as zod (empty, too large, not JSON, schema violations)', () => {
    for (const bytes of [
      null,
      Buffer.alloc(0),
      Buffer.from('{"v":1'),
      Buffer.from('\u0000\u0001'),
      Buffer.from('[]'),
      Buffer.from(JSON.stringify({ ...valid[0], v: 2 })),
      Buffer.from(JSON.stringify(valid[0])),
    ]) {
      expect(decodeRequest(bytes, 1 << 20)).toEqual(decodeJson(notificationRequestV1, bytes, 1 << 20));
    }
    const big = Buffer.from(JSON.stringify(valid[0]));
    expect(decodeRequest(big, 10)).toEqual(decodeJson(notificationRequestV1, big, 10));
  });
});
