import { describe, expect, it } from 'vitest';
import { standingBlocks, standingFacetOf, standingHold, type AccountStanding } from '../src/account-standing';
import { categoryAt, templateCategoryChangeOf } from '../src/template-category';

// https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/account_update
describe('account standing from account_update', () => {
  const at = '2026-12-06T12:00:00.000Z';
  const now = Date.parse(at);

  it('reads a ban, a reinstatement, restrictions (Unix-second or ISO expiry), a violation and a deletion', () => {
    expect(standingFacetOf({ event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: 'DISABLE', waba_ban_date: '2026-12-06' } }, at)).toEqual({
      facet: 'ban',
      value: { event: 'DISABLED_UPDATE', updatedAt: at, state: 'DISABLE', date: '2026-12-06' },
    });
    expect(standingFacetOf({ event: 'DISABLED_UPDATE', ban_info: { waba_ban_state: 'REINSTATE' } }, at)?.value).toMatchObject({ state: 'REINSTATE' });
    const r = standingFacetOf(
      {
        event: 'ACCOUNT_RESTRICTION',
        restriction_info: [
          { restriction_type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiration: 1_796_000_000 },
          { restriction_type: 'RESTRICTED_CUSTOMER_INITIATED_MESSAGING', expiration: '2026-12-07T13:59:20+0000' },
        ],
      },
      at,
    );
    expect(r?.value).toEqual({
      event: 'ACCOUNT_RESTRICTION',
      updatedAt: at,
      items: [
        { type: 'RESTRICTED_BIZ_INITIATED_MESSAGING', expiresAtMs: 1_796_000_000_000 },
        { type: 'RESTRICTED_CUSTOMER_INITIATED_MESSAGING', expiresAtMs: Date.parse('2026-12-07T13:59:20Z') },
      ],
    });
    expect(standingFacetOf({ event: 'ACCOUNT_VIOLATION', violation_info: { violation_type: 'SCAM' } }, at)?.value).toMatchObject({ type: 'SCAM' });
    expect(standingFacetOf({ event: 'ACCOUNT_DELETED' }, at)?.facet).toBe('deleted');
    expect(standingFacetOf({ event: 'VOLUME_BASED_PRICING_TIER_UPDATE' }, at)).toBeUndefined();
    expect(standingFacetOf({ event: 'DISABLED_UPDATE' }, at)).toBeUndefined();
  });

  it('holds every send while banned or deleted, none once reinstated or only warned', () => {
    const ban = (state: string): AccountStanding => ({ ban: { event: 'DISABLED_UPDATE', updatedAt: at, state } });
    expect(standingHold(ban('DISABLE'), now, false)).toBe('account_banned');
    expect(standingHold(ban('DISABLE'), now, true)).toBe('account_banned');
    expect(standingHold(ban('SCHEDULE_FOR_DISABLE'), now, true)).toBeUndefined();
    expect(standingHold(ban('REINSTATE'), now, true)).toBeUndefined();
    expect(standingHold({ deleted: { event: 'ACCOUNT_DELETED', updatedAt: at } }, now, false)).toBe('account_banned');
    expect(standingHold({ violation: { event: 'ACCOUNT_VIOLATION', updatedAt: at, type: 'SCAM' } }, now, true)).toBeUndefined();
    expect(standingHold(undefined, now, true)).toBeUndefined();
  });

  it('holds the restricted kind of messaging until its expiry; adding numbers restricted holds nothing; an empty list lifts', () => {
    const restricted = (type: string, expiresAtMs?: number): AccountStanding => ({
      restriction: { event: 'ACCOUNT_RESTRICTION', updatedAt: at, items: [{ type, ...(expiresAtMs !== undefined ? { expiresAtMs } : {}) }] },
    });
    const biz = restricted('RESTRICTED_BIZ_INITIATED_MESSAGING', now + 60_000);
    expect(standingHold(biz, now, true)).toBe('account_restricted');
    expect(standingHold(biz, now, false)).toBeUndefined(); // replies inside a service window still go
    expect(standingHold(biz, now + 60_000, true)).toBeUndefined(); // expired
    expect(standingHold(restricted('RESTRICTED_CUSTOMER_INITIATED_MESSAGING'), now, false)).toBe('account_restricted');
    expect(standingHold(restricted('RESTRICTED_CUSTOMER_INITIATED_MESSAGING'), now, true)).toBeUndefined();
    expect(standingBlocks(restricted('RESTRICTED_ADD_PHONE_NUMBER_ACTION'), now)).toEqual({ all: false, businessInitiated: false, customerInitiated: false });
    expect(standingHold({ restriction: { event: 'ACCOUNT_RESTRICTION', updatedAt: at, items: [] } }, now, true)).toBeUndefined();
  });
});

// https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/template_category_update
describe('template re-categorisation', () => {
  const t0 = Date.parse('2026-12-06T12:00:00Z');
  const base = { message_template_id: 806312974732579, message_template_name: 'order_update', message_template_language: 'en_US' };

  it('an announced change keeps the current category until category_update_timestamp, then the correct one', () => {
    const effective = t0 / 1000 + 86_400;
    const c = templateCategoryChangeOf({ ...base, correct_category: 'MARKETING', new_category: 'UTILITY', category_update_timestamp: effective }, t0);
    expect(c).toMatchObject({ name: 'order_update', language: 'en_US', id: '806312974732579' });
    expect(c?.change).toEqual({ from: 'utility', to: 'marketing', effectiveAtMs: effective * 1000, kind: 'announced', updatedAt: '2026-12-06T12:00:00.000Z' });
    expect(categoryAt(c?.change, t0)).toBe('utility');
    expect(categoryAt(c?.change, effective * 1000 - 1)).toBe('utility');
    expect(categoryAt(c?.change, effective * 1000)).toBe('marketing');
  });

  it('a completed change is in force from the webhook time; without a time an announcement means 24 h', () => {
    const c = templateCategoryChangeOf({ ...base, previous_category: 'UTILITY', new_category: 'MARKETING' }, t0);
    expect(c?.change).toMatchObject({ from: 'utility', to: 'marketing', effectiveAtMs: t0, kind: 'completed' });
    expect(categoryAt(c?.change, t0 - 1)).toBe('utility');
    expect(categoryAt(c?.change, t0)).toBe('marketing');
    expect(templateCategoryChangeOf({ ...base, correct_category: 'MARKETING' }, t0)?.change.effectiveAtMs).toBe(t0 + 86_400_000);
    expect(templateCategoryChangeOf({ ...base, new_category: 'PROMOTIONAL' }, t0)).toBeUndefined();
    expect(templateCategoryChangeOf({ new_category: 'MARKETING' }, t0)).toBeUndefined();
  });
});
