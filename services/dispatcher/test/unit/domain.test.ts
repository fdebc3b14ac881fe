import { createHash } from 'node:crypto';
import { specFromCatalog, type TemplateSpec } from '@wa/shared/templates/spec';
import { describe, expect, it } from 'vitest';
import { RETRY_TIERS } from '@wa/shared/topics';
import { admitCampaign } from '../../src/domain/admission';
import { decideRetry, tierIndexForDelay } from '../../src/domain/backoff';
import { evaluateCompliance, type ComplianceFacts } from '../../src/domain/compliance';
import { decideOutcome } from '../../src/domain/outcome';
import { createAdaptiveRate, handedOn, nextHandOnAt, pacedRoom, queuedSendsDue, sendGuardCap, targetRate, type HandOnTimelines } from '../../src/domain/pacing';
import { pickSender } from '../../src/domain/sender-pool';

describe('pacing', () => {
  it('send guard cap: evenly paced slots fit, and it stays below the limit', () => {
    expect(sendGuardCap(58.2, 60)).toBe(59);
    expect(sendGuardCap(60, 60)).toBe(59);
    expect(sendGuardCap(970, 1000)).toBe(985);
    expect(sendGuardCap(97, 100)).toBe(98);
    expect(sendGuardCap(38.8, 40)).toBe(39);
    expect(sendGuardCap(1, 1)).toBe(1);
    expect(sendGuardCap(20, 30)).toBe(25);
  });

  it('inbound messages: the paced rate leaves room for their mean and a burst, the cap for the burst', () => {
    // No inbound traffic known: the configured share (5 % of 80 → 76) and the cap halfway to the limit, as before.
    expect(targetRate(80, 0.05, 1, 0)).toBeCloseTo(76, 9);
    expect(sendGuardCap(76, 80, 0)).toBe(78);
    // A campaign's replies at 4 msg/s: 4 + 3·√4 = 10 below the limit; the cap keeps the burst (6) free: 74 - 1.
    expect(targetRate(80, 0.05, 1, 4)).toBeCloseTo(70, 9);
    expect(sendGuardCap(70, 80, 4)).toBe(72);
    // A trickle below the configured share changes nothing but the cap's burst room.
    expect(targetRate(80, 0.05, 1, 0.25)).toBeCloseTo(76, 9);
    expect(sendGuardCap(76, 80, 0.25)).toBe(77);
    // The adaptive factor applies after the room is taken.
    expect(targetRate(1000, 0.05, 0.5, 100)).toBeCloseTo((1000 - 130) * 0.5, 9);
    // People alone send more than the limit: one send a second, the cap well above it.
    expect(targetRate(20, 0.05, 1, 50)).toBe(1);
    expect(sendGuardCap(1, 80, 100)).toBe(25);
    // Held (the webhook path is behind): no catch-up above the paced rate.
    expect(sendGuardCap(72, 80, 1, true)).toBe(72);
    expect(sendGuardCap(70.4, 80, 4, true)).toBe(71);
  });

  it("a held queue's hand-ons: due at the paced rate, at most 20 ms of slots behind, never above twice the rate", () => {
    // 1,000 msg/s: a slot per ms. Held at 0; 3 ms later three sends are due.
    const t: HandOnTimelines = { handedOnAt: 0, burstAt: 0 };
    expect(queuedSendsDue(t, 3, 1, 100)).toBe(3);
    // A stall of 500 ms: the paced timeline owes 500 slots, but catches up 20 ms at most, and the
    // catch-up timeline (half a slot per send) allows 4 ms of slack at twice the rate: 8 now.
    const stalled: HandOnTimelines = { handedOnAt: 0, burstAt: 0 };
    expect(queuedSendsDue(stalled, 500, 1, 100)).toBe(8);
    expect(stalled).toEqual({ handedOnAt: 480, burstAt: 496 });
    for (let i = 0; i < 8; i++) handedOn(stalled, 1);
    expect(stalled).toEqual({ handedOnAt: 488, burstAt: 500 });
    // Nothing more until the catch-up timeline moves on; 2 ms later, four (twice the rate).
    expect(queuedSendsDue(stalled, 500, 1, 100)).toBe(0);
    expect(queuedSendsDue(stalled, 502, 1, 100)).toBe(4);
    // Bounded by the room and by 16 at once.
    expect(queuedSendsDue({ handedOnAt: 0, burstAt: 0 }, 500, 1, 3)).toBe(3);
    expect(queuedSendsDue({ handedOnAt: 0, burstAt: 0 }, 500, 0.1, 1_000)).toBe(16);
    // 80 msg/s (12.5 ms slots): a slot of slack on the catch-up timeline, so one send per slot.
    const slow: HandOnTimelines = { handedOnAt: 0, burstAt: 0 };
    expect(queuedSendsDue(slow, 100, 12.5, 100)).toBe(1);
    handedOn(slow, 12.5);
    expect(queuedSendsDue(slow, 100, 12.5, 100)).toBe(0);
  });

  it("a held queue's drain timer looks when the next send is due on both timelines, at most every tick", () => {
    expect(nextHandOnAt({ handedOnAt: 100, burstAt: 100 }, 1, 4)).toBe(104);
    expect(nextHandOnAt({ handedOnAt: 100, burstAt: 110 }, 1, 4)).toBe(112);
    expect(nextHandOnAt({ handedOnAt: 100, burstAt: 100 }, 12.5, 4)).toBe(112.5);
  });

  it('paced room: what keeps the last window at the paced rate, never negative', () => {
    expect(pacedRoom(970, 1_000, 960)).toBe(10);
    expect(pacedRoom(970, 1_000, 985)).toBe(0);
    expect(pacedRoom(78.4, 1_000, 70)).toBe(8);
  });

  it('backs off multiplicatively on a throttle, holds for the cool-down, then recovers linearly', () => {
    const a = createAdaptiveRate({ decreaseFactor: 0.5, coolDownMs: 10_000 });
    let s = a.onThrottle(a.fresh(), 0);
    expect(a.factorAt(s, 5_000)).toBe(0.5);
    // a second throttle within the same second is the same signal
    s = a.onThrottle(s, 200);
    expect(a.factorAt(s, 300)).toBe(0.5);
    s = a.onThrottle(s, 3_000);
    expect(a.factorAt(s, 3_001)).toBe(0.25);
    expect(a.factorAt(s, 13_000)).toBe(0.25);
    expect(a.factorAt(s, 18_000)).toBeCloseTo(0.625);
    expect(a.factorAt(s, 23_000)).toBe(1);
    expect(targetRate(100, 0, 0.5)).toBe(50);
  });
});

describe('backoff', () => {
  it('draws full jitter under an exponential ceiling capped at the maximum', () => {
    const opts = { baseMs: 1_000, maxDelayMs: 30_000, maxAttempts: 100 };
    const delay = (attempt: number, r: number) => (decideRetry(attempt, opts, () => r) as { delayMs: number }).delayMs;
    expect(delay(0, 0.999)).toBe(999);
    expect(delay(3, 0.5)).toBe(4_000);
    expect(delay(20, 0.999)).toBe(29_970);
    expect(delay(5, 0)).toBe(0);
  });

  it('maps delays to the retry tier topics', () => {
    expect(tierIndexForDelay(0, RETRY_TIERS)).toBe(0);
    expect(tierIndexForDelay(4_000, RETRY_TIERS)).toBe(0);
    expect(tierIndexForDelay(59_999, RETRY_TIERS)).toBe(0);
    expect(tierIndexForDelay(60_000, RETRY_TIERS)).toBe(1);
    expect(tierIndexForDelay(3_600_000, RETRY_TIERS)).toBe(2);
  });

  it('stops after the attempt cap and honours a minimum delay', () => {
    const opts = { baseMs: 100, maxDelayMs: 1_000, maxAttempts: 3 };
    expect(decideRetry(0, opts, () => 0, 6_000)).toEqual({ retry: true, delayMs: 6_000, nextAttempt: 1 });
    expect(decideRetry(1, opts, () => 0.5)).toEqual({ retry: true, delayMs: 100, nextAttempt: 2 });
    expect(decideRetry(2, opts, () => 0.5)).toEqual({ retry: false, reason: 'retries_exhausted' });
  });
});

describe('outcome classification', () => {
  const opts = { unknownOutcomePolicy: 'record_unknown' as const, pairIntervalMs: 6_000 };
  const err = (code: number | undefined, httpStatus: number | undefined, mayHaveSent = false) => ({
    kind: 'error' as const,
    code,
    httpStatus,
    message: 'x',
    mayHaveSent,
  });

  it('accepts, retries transient errors, dead-letters permanent ones, pauses on auth', () => {
    expect(decideOutcome({ kind: 'accepted', wamid: 'wamid.1', httpStatus: 200 }, opts)).toEqual({ action: 'sent', wamid: 'wamid.1' });
    expect(decideOutcome(err(131000, 500), opts)).toMatchObject({ action: 'retry', errorClass: 'transient', slowSender: false });
    expect(decideOutcome(err(undefined, 503), opts)).toMatchObject({ action: 'retry', errorClass: 'transient' });
    expect(decideOutcome(err(131026, 400), opts)).toMatchObject({ action: 'dead-letter', reason: 'permanent_error', code: 131026 });
    expect(decideOutcome(err(132000, 400), opts)).toMatchObject({ action: 'dead-letter', reason: 'permanent_error' });
    expect(decideOutcome(err(100, 400), opts)).toMatchObject({ action: 'dead-letter', reason: 'fix_request_error' });
    expect(decideOutcome(err(190, 401), opts)).toMatchObject({ action: 'pause-account', code: 190 });
    expect(decideOutcome(err(131031, 400), opts)).toMatchObject({ action: 'pause-account' });
  });

  it('slows the number on throughput throttles but not on the per-recipient pair limit', () => {
    expect(decideOutcome(err(130429, 400), opts)).toMatchObject({ action: 'retry', errorClass: 'throttle', slowSender: true });
    expect(decideOutcome(err(80007, 400), opts)).toMatchObject({ slowSender: true });
    expect(decideOutcome(err(131056, 400), opts)).toMatchObject({ action: 'retry', slowSender: false, minDelayMs: 6_000 });
  });

  it('never resends a request that may have reached Meta unless the policy says so', () => {
    expect(decideOutcome(err(undefined, undefined, true), opts)).toMatchObject({ action: 'unknown' });
    expect(decideOutcome(err(undefined, undefined, true), { ...opts, unknownOutcomePolicy: 'resend' })).toMatchObject({
      action: 'retry',
      errorClass: 'network',
    });
    expect(decideOutcome(err(undefined, undefined, false), opts)).toMatchObject({ action: 'retry', errorClass: 'network' });
  });
});

describe('compliance gates', () => {
  const now = Date.parse('2026-01-10T12:00:00Z');
  const entry = (name: string, category: 'marketing' | 'utility', status: string, bodyParams: number) =>
    specFromCatalog({ wabaId: '1', name, language: 'en_US', category, status, headerParams: 0, bodyParams, buttonParams: 0, coalescible: false });
  const templates: Record<string, TemplateSpec> = {
    promo: entry('promo', 'marketing', 'APPROVED', 1),
    order: entry('order', 'utility', 'APPROVED', 1),
    paused: entry('paused', 'marketing', 'PAUSED', 0),
  };
  const facts = (over: Partial<ComplianceFacts> = {}): ComplianceFacts => ({
    nowMs: now,
    optedOut: false,
    lastInboundMs: undefined,
    serviceWindowMs: 24 * 3_600_000,
    optOutPolicy: 'marketing_only',
    template: (ref) => templates[ref.name],
    ...over,
  });
  const tpl = (name: string, bodyParams: string[] = ['x'], category: 'marketing' | 'utility' = 'marketing') => ({
    type: 'template' as const,
    template: { name, language: 'en_US', category, bodyParams },
  });
  const text = { type: 'text' as const, text: { body: 'hi' } };

  it('expires jobs past their expiry', () => {
    expect(evaluateCompliance({ message: tpl('promo'), category: 'marketing', expiresAt: '2026-01-10T11:59:59Z' }, facts())).toMatchObject({
      action: 'expire',
    });
  });

  it('blocks marketing to opted-out people; utility follows the policy', () => {
    expect(evaluateCompliance({ message: tpl('promo'), category: 'marketing' }, facts({ optedOut: true }))).toMatchObject({
      action: 'reject',
      reason: 'opted_out',
    });
    expect(evaluateCompliance({ message: tpl('order', ['1'], 'utility'), category: 'utility' }, facts({ optedOut: true }))).toMatchObject({
      action: 'send',
      category: 'utility',
    });
    expect(evaluateCompliance({ message: tpl('order', ['1'], 'utility'), category: 'utility' }, facts({ optedOut: true, optOutPolicy: 'all' }))).toMatchObject({
      action: 'reject',
      reason: 'opted_out',
    });
  });

  it('sends free-form only inside the service window, else the fallback template, else refuses', () => {
    expect(evaluateCompliance({ message: text, category: 'service' }, facts({ lastInboundMs: now - 3_600_000 }))).toMatchObject({
      action: 'send',
      category: 'service',
      businessInitiated: false,
    });
    expect(evaluateCompliance({ message: text, category: 'service' }, facts({ lastInboundMs: now - 25 * 3_600_000 }))).toMatchObject({
      action: 'reject',
      reason: 'outside_service_window',
    });
    const fb = evaluateCompliance({ message: text, category: 'service', fallbackTemplate: tpl('order', ['1'], 'utility').template }, facts());
    expect(fb).toMatchObject({ action: 'send', category: 'utility', usedFallback: true, businessInitiated: true });
  });

  it('checks template existence, status and parameter count', () => {
    expect(evaluateCompliance({ message: tpl('nope'), category: 'marketing' }, facts())).toMatchObject({ reason: 'unknown_template' });
    expect(evaluateCompliance({ message: tpl('paused', []), category: 'marketing' }, facts())).toMatchObject({ reason: 'template_not_approved' });
    expect(evaluateCompliance({ message: tpl('promo', ['a', 'b']), category: 'marketing' }, facts())).toMatchObject({ reason: 'template_params_mismatch' });
    expect(evaluateCompliance({ message: tpl('promo', ['a']), category: 'marketing' }, facts())).toMatchObject({ action: 'send', businessInitiated: true });
  });
});

describe('campaign admission', () => {
  it('admits what fits and holds or refuses the rest', () => {
    expect(admitCampaign({ newRecipients: 500, knownRecipients: 100, limit: 2_000, used: 1_000, policy: 'spread' })).toMatchObject({
      admitted: true,
      sendNow: 500,
      held: 0,
      windowsNeeded: 1,
    });
    expect(admitCampaign({ newRecipients: 5_000, knownRecipients: 0, limit: 2_000, used: 1_500, policy: 'spread' })).toMatchObject({
      admitted: true,
      sendNow: 500,
      held: 4_500,
      remainingBudget: 500,
      windowsNeeded: 4,
    });
    expect(admitCampaign({ newRecipients: 5_000, knownRecipients: 0, limit: 2_000, used: 1_500, policy: 'refuse' })).toMatchObject({
      admitted: false,
      sendNow: 0,
      refused: 5_000,
    });
    expect(admitCampaign({ newRecipients: 1e6, knownRecipients: 0, limit: null, used: 7, policy: 'refuse' })).toMatchObject({ admitted: true, sendNow: 1e6 });
  });
});

describe('sender pool', () => {
  it('keeps a recipient on the same number and moves only the recipients of a removed number', () => {
    const pool = ['1', '2', '3'];
    const people = Array.from({ length: 3_000 }, (_, i) => String(4915000000000 + i));
    const before = new Map(people.map((p) => [p, pickSender(pool, p)]));
    expect(people.every((p) => pickSender(pool, p) === before.get(p))).toBe(true);
    const counts = new Map<string, number>();
    for (const s of before.values()) counts.set(s!, (counts.get(s!) ?? 0) + 1);
    for (const c of counts.values()) expect(c).toBeGreaterThan(800);
    const after = new Map(people.map((p) => [p, pickSender(pool, p, (id) => id !== '2')]));
    for (const p of people) if (before.get(p) !== '2') expect(after.get(p)).toBe(before.get(p));
    expect([...after.values()].includes('2')).toBe(false);
  });
  it('picks what every earlier version picked: the highest first 8 bytes of SHA-1(number NUL recipient)', () => {
    // A recipient moved to another number loses their thread and service window there: the choice must not change across an upgrade.
    const earlier = (pool: string[], to: string) => pool.reduce((best, id) => (hashScore(id, to) > hashScore(best, to) ? id : best));
    const hashScore = (id: string, to: string) => createHash('sha1').update(id).update('\u0000').update(to).digest().readBigUInt64BE(0);
    const pool = ['106540352241001', '106540352241002', '106540352241003', '106540352241004'];
    for (let i = 0; i < 5_000; i++) {
      const to = String(919800000000 + i * 7919);
      expect(pickSender(pool, to)).toBe(earlier(pool, to));
      expect(pickSender(pool.slice(0, 2), to)).toBe(earlier(pool.slice(0, 2), to));
    }
  });
});
