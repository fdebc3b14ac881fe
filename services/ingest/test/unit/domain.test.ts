import { describe, expect, it } from 'vitest';
import { indexCatalog, parseCatalog } from '@wa/shared/catalog';
import { notificationRequestV1, type NotificationRequestV1 } from '@wa/shared/contracts/notification-request';
import type { DispatchJobV1 } from '@wa/shared/contracts/dispatch-job';
import { normalisePhone } from '@wa/shared/phone';
import { parseCsvHeader, parseCsvRecord, parseNdjsonLine } from '../../src/domain/audience-format';
import { mergeBuffered, type BufferedJob } from '../../src/domain/coalesce';
import { buildJob, dedupeInline, inlineRecipients, resolveRecipient } from '../../src/domain/expand';
import { digestJobIdFor, jobIdFor } from '../../src/domain/job-id';
import { laneFor } from '../../src/domain/lanes';
import { parseQuietHours, quietHoursRelease, requestTiming } from '../../src/domain/schedule';
import { planRequest } from '../../src/domain/validate';
import catalogJson from '../../../../config/catalog.example.json';

const catalog = indexCatalog(parseCatalog(catalogJson));
const NUMBER = '106540352242922';

function req(overrides: Partial<NotificationRequestV1> & Record<string, unknown> = {}): NotificationRequestV1 {
  return notificationRequestV1.parse({
    v: 1,
    idempotencyKey: 'k-1',
    sender: { phoneNumberId: NUMBER },
    to: '+4915112345678',
    template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1', 'shipped'] },
    ...overrides,
  });
}

describe('jobId', () => {
  it('is a pure function of idempotency key and recipient', () => {
    expect(jobIdFor('k-1', '4915112345678')).toBe(jobIdFor('k-1', '4915112345678'));
    expect(jobIdFor('k-1', '4915112345678')).not.toBe(jobIdFor('k-2', '4915112345678'));
    expect(jobIdFor('k-1', '4915112345678')).not.toBe(jobIdFor('k-1', '4915112345679'));
    expect(jobIdFor('k-1', '4915112345678')).toMatch(/^j_[A-Za-z0-9_-]{32}$/);
    // No ambiguity from concatenation.
    expect(jobIdFor('k-14', '915112345678')).not.toBe(jobIdFor('k-1', '4915112345678'));
    expect(digestJobIdFor(['b', 'a'])).toBe(digestJobIdFor(['a', 'b']));
  });

  it('keeps the ids of earlier versions (the dispatcher ledger recognises replays by them)', () => {
    // sha256("k-1" NUL "4915112345678"), base64url, first 32 characters — computed with createHash().update() per part.
    expect(jobIdFor('k-1', '4915112345678')).toBe('j_mXBvxUuaYYvHFfCVzfIrfdH1SbFceUiV');
  });
});

describe('phone normalisation', () => {
  it.each([
    ['+49 151 12345678', '4915112345678'],
    ['0049 151 12345678', '4915112345678'],
    ['4915112345678', '4915112345678'],
    ['+1 (415) 555-2671', '14155552671'],
    ['+44 7911 123456', '447911123456'],
  ])('%s → %s', (input, waId) => {
    expect(normalisePhone(input)).toMatchObject({ ok: true, waId });
  });
  it.each(['', 'call me', '+1 000', '+999999', '+49 123'])('refuses %j', (input) => {
    expect(normalisePhone(input).ok).toBe(false);
  });
});

describe('lanes', () => {
  it('routes by category, raised by high priority and lowered by bulk, auth always first', () => {
    expect(laneFor('authentication', 'bulk')).toBe('auth');
    expect(laneFor('utility', undefined)).toBe('utility');
    expect(laneFor('service', 'normal')).toBe('utility');
    expect(laneFor('marketing', undefined)).toBe('marketing');
    expect(laneFor('marketing', 'high')).toBe('utility');
    expect(laneFor('utility', 'bulk')).toBe('marketing');
  });
});

describe('planRequest (validation against the catalogue)', () => {
  const opts = { coalesceWindowMs: 0 };
  it('resolves template, catalogue category and lane', () => {
    const r = planRequest(req(), catalog, opts);
    expect(r.ok && r.plan.lane).toBe('utility');
    const sale = planRequest(
      req({ template: { name: 'spring_sale', language: 'en_US', category: 'utility', headerParams: ['x'], bodyParams: ['y'] } }),
      catalog,
      opts,
    );
    expect(sale.ok && sale.plan.category).toBe('marketing');
  });
  it('free-form text is category service', () => {
    const r = planRequest(req({ template: undefined, text: { body: 'hi' } }), catalog, opts);
    expect(r.ok && [r.plan.category, r.plan.lane]).toEqual(['service', 'utility']);
  });
  it('refuses unknown templates, senders and wrong parameter counts with reason codes', () => {
    expect(planRequest(req({ template: { name: 'nope', language: 'en_US', category: 'utility' } }), catalog, opts)).toMatchObject({
      ok: false,
      reason: 'unknown_template',
    });
    expect(planRequest(req({ template: { name: 'order_update', language: 'de', category: 'utility', bodyParams: ['a', 'b'] } }), catalog, opts)).toMatchObject({
      ok: false,
      reason: 'unknown_template',
    });
    expect(planRequest(req({ sender: { phoneNumberId: '999' } }), catalog, opts)).toMatchObject({ ok: false, reason: 'unknown_sender' });
    expect(planRequest(req({ sender: { pool: 'nope' } }), catalog, opts)).toMatchObject({ ok: false, reason: 'unknown_sender' });
    expect(planRequest(req({ sender: { pool: 'acme-main' } }), catalog, opts).ok).toBe(true);
    expect(
      planRequest(req({ template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['only one'] } }), catalog, opts),
    ).toMatchObject({ ok: false, reason: 'template_params_mismatch' });
    expect(planRequest(req({ template: { name: 'otp_code', language: 'en_US', category: 'authentication', bodyParams: ['1'] } }), catalog, opts)).toMatchObject(
      { ok: false, reason: 'template_params_mismatch' },
    );
  });
  it('turns coalescing on only with a window, for coalescible templates or a coalesce key, never for authentication', () => {
    const off = planRequest(req(), catalog, opts);
    expect(off.ok && off.plan.coalesce).toBeUndefined();
    const on = planRequest(req(), catalog, { coalesceWindowMs: 1000 });
    expect(on.ok && on.plan.coalesce).toEqual({
      key: 't:order_update:en_US',
      digest: { name: 'order_digest', language: 'en_US', category: 'utility' },
      digestBodyParams: 1,
    });
    const otp = planRequest(
      req({
        template: {
          name: 'otp_code',
          language: 'en_US',
          category: 'authentication',
          bodyParams: ['1'],
          buttonParams: [{ index: 0, subType: 'url', text: '1' }],
        },
      }),
      catalog,
      { coalesceWindowMs: 1000 },
    );
    expect(otp.ok && otp.plan.coalesce).toBeUndefined();
    const sale = planRequest(
      req({ template: { name: 'spring_sale', language: 'en_US', category: 'marketing', headerParams: ['x'], bodyParams: ['y'] } }),
      catalog,
      { coalesceWindowMs: 1000 },
    );
    expect(sale.ok && sale.plan.coalesce).toBeUndefined();
    const keyed = planRequest(
      req({
        template: { name: 'spring_sale', language: 'en_US', category: 'marketing', headerParams: ['x'], bodyParams: ['y'] },
        coalesce: { key: 'promo', digestTemplate: { name: 'order_digest', language: 'en_US', category: 'utility' } },
      }),
      catalog,
      { coalesceWindowMs: 1000 },
    );
    expect(keyed.ok && keyed.plan.coalesce?.key).toBe('promo');
  });
});

describe('expansion', () => {
  const planned = planRequest(
    req({
      to: undefined,
      recipients: ['+4915112345678', { to: '0049 151 12345678', bodyParams: ['B', 'x'] }, 'junk', { to: '+4915112345679', bodyParams: ['one'] }],
    }),
    catalog,
    { coalesceWindowMs: 0 },
  );
  if (!planned.ok) throw new Error('plan');
  const plan = planned.plan;

  it('normalises, reports bad numbers and parameter mismatches per recipient, and keeps the first of duplicates', () => {
    const results = inlineRecipients(plan.request).map((r) => resolveRecipient(plan, r));
    expect(results.map((r) => (r.ok ? r.recipient.waId : r.problem.reason))).toEqual([
      '4915112345678',
      '4915112345678',
      'invalid_recipient',
      'template_params_mismatch',
    ]);
    const ok = results.flatMap((r) => (r.ok ? [r.recipient] : []));
    const { kept, duplicates } = dedupeInline(ok);
    expect(duplicates).toBe(1);
    expect(kept[0]!.index).toBe(0);
  });

  it('builds a job with per-recipient parameters and a deterministic id', () => {
    const job = buildJob(
      plan,
      { index: 1, waId: '4915112345678', country: 'DE', template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['B', 'x'] } },
      '2026-01-01T00:00:00.000Z',
    );
    expect(job).toMatchObject({ jobId: jobIdFor('k-1', '4915112345678'), to: '4915112345678', lane: 'utility', category: 'utility', attempt: 0 });
    expect(job.message).toEqual({ type: 'template', template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['B', 'x'] } });
  });

  it('parses NDJSON and CSV audience lines', () => {
    expect(parseNdjsonLine('"+4915112345678"', 3)).toEqual({ ok: true, recipient: { index: 3, to: '+4915112345678' } });
    expect(parseNdjsonLine('{"to":"+49151","bodyParams":["a"]}', 0)).toEqual({ ok: true, recipient: { index: 0, to: '+49151', bodyParams: ['a'] } });
    expect(parseNdjsonLine('{"to":"+49151","bodyParams":[1]}', 0).ok).toBe(false);
    expect(parseNdjsonLine('nope', 0).ok).toBe(false);
    expect(parseNdjsonLine('   ', 0).ok).toBe('skip');
    const layout = parseCsvHeader('name,phone,body.2,body.1,header.1'.split(','))!;
    expect(parseCsvRecord('Ann,+4915112345678,second,first,H'.split(','), layout, 7)).toEqual({
      ok: true,
      recipient: { index: 7, to: '+4915112345678', bodyParams: ['first', 'second'], headerParams: ['H'] },
    });
    expect(parseCsvHeader('name,email'.split(','))).toBeNull();
  });
});

function job(id: string, overrides: Partial<DispatchJobV1> = {}): DispatchJobV1 {
  return {
    v: 1,
    jobId: id,
    requestKey: `r-${id}`,
    sender: { phoneNumberId: NUMBER },
    to: '4915112345678',
    lane: 'utility',
    category: 'utility',
    message: { type: 'template', template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: [`O-${id}`, 'shipped'] } },
    requestedAt: '2026-01-01T00:00:00.000Z',
    attempt: 0,
    ...overrides,
  };
}
const digest = { name: 'order_digest', language: 'en_US', category: 'utility' as const };
const buffered = (j: DispatchJobV1, digestBodyParams = 1): BufferedJob => ({ job: j, digest, digestBodyParams });

describe('coalescing (pure merge)', () => {
  it('sends a lone notification unchanged', () => {
    expect(mergeBuffered([buffered(job('a'))], 20)).toEqual([job('a')]);
  });
  it('merges several into one digest with a deterministic id, earliest expiry and every merged id', () => {
    const merged = mergeBuffered(
      [
        buffered(job('a', { expiresAt: '2026-01-02T00:00:00.000Z' })),
        buffered(job('b', { requestedAt: '2026-01-01T00:00:01.000Z', expiresAt: '2026-01-01T12:00:00.000Z' })),
      ],
      20,
    );
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ jobId: digestJobIdFor(['a', 'b']), coalescedJobIds: ['a', 'b'], expiresAt: '2026-01-01T12:00:00.000Z' });
    expect(merged[0]!.message).toEqual({ type: 'template', template: { ...digest, bodyParams: ['O-a shipped; O-b shipped'] } });
    const two = mergeBuffered([buffered(job('a'), 2), buffered(job('b'), 2)], 20);
    expect(two[0]!.message.type === 'template' && two[0]!.message.template.bodyParams).toEqual(['2', 'O-a shipped; O-b shipped']);
  });
  it('drops replayed duplicates, never merges authentication, and caps digest size', () => {
    const otp = job('otp', { lane: 'auth', category: 'authentication' });
    const out = mergeBuffered([buffered(job('a')), buffered(job('a')), buffered(otp), buffered(job('b')), buffered(job('c'))], 2);
    expect(out.find((j) => j.jobId === 'otp')).toEqual(otp);
    expect(out.filter((j) => j.coalescedJobIds).map((j) => j.coalescedJobIds)).toEqual([['a', 'b']]);
    expect(out.find((j) => j.jobId === 'c')).toEqual(job('c'));
    expect(out).toHaveLength(3);
  });
  it('keeps parameters free of newlines and tabs (Meta refuses them)', () => {
    const merged = mergeBuffered(
      [
        buffered(job('a', { message: { type: 'template', template: { ...digest, name: 'order_update', bodyParams: ['line1\nline2', 'x\t  y'] } } })),
        buffered(job('b')),
      ],
      20,
    );
    const p = merged[0]!.message.type === 'template' ? merged[0]!.message.template.bodyParams![0]! : '';
    expect(p).not.toMatch(/[\n\t]|\s{2}/);
  });
});

describe('scheduling', () => {
  const now = Date.parse('2026-03-10T12:00:00Z');
  it('expiry wins, then not-before holds, within a tolerance', () => {
    expect(requestTiming({ expiresAt: '2026-03-10T11:59:59Z', notBefore: '2026-03-10T13:00:00Z' }, now, 1000).kind).toBe('expired');
    expect(requestTiming({ notBefore: '2026-03-10T13:00:00Z' }, now, 1000)).toEqual({ kind: 'hold', untilMs: Date.parse('2026-03-10T13:00:00Z') });
    expect(requestTiming({ notBefore: '2026-03-10T12:00:00.500Z' }, now, 1000).kind).toBe('now');
    expect(requestTiming({ expiresAt: '2026-03-10T12:00:01Z' }, now, 1000).kind).toBe('now');
  });
  it('parses quiet hours', () => {
    expect(parseQuietHours('21-08')).toEqual({ startHour: 21, endHour: 8 });
    expect(parseQuietHours('9-17')).toEqual({ startHour: 9, endHour: 17 });
    expect(parseQuietHours('25-08')).toBeNull();
    expect(parseQuietHours('8-8')).toBeNull();
  });
  it('holds marketing in the recipient local night until the window ends', () => {
    const q = { startHour: 21, endHour: 8 };
    // 12:00 UTC: 13:00 in Berlin (CET) → not quiet; 17:30 in Kolkata → not quiet; 01:00 in Auckland (NZDT) → quiet until 08:00 NZDT = 19:00 UTC.
    expect(quietHoursRelease('DE', now, q)).toBeNull();
    expect(quietHoursRelease('IN', now, q)).toBeNull();
    expect(quietHoursRelease('NZ', now, q)).toBe(Date.parse('2026-03-10T19:00:00Z'));
    // 22:10 UTC: 03:40 next day in Kolkata → quiet until 08:00 IST = 02:30 UTC.
    expect(quietHoursRelease('IN', Date.parse('2026-03-10T22:10:00Z'), q)).toBe(Date.parse('2026-03-11T02:30:00Z'));
    expect(quietHoursRelease('ZZ', now, q)).toBeNull();
  });
});
