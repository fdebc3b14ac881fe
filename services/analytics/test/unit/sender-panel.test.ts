import { describe, expect, it } from 'vitest';
import { senderPanel, type AccountEventRow } from '../../src/domain/sender-panel';

const sends = (sender: string, wabaId: string, sentLastMinute: number, recipients24h = 10) => ({
  sender,
  wabaId,
  sentLastMinute,
  throttled130429: 2,
  pairLimited131056: 1,
  recipients24h,
});
const account = (row: Partial<AccountEventRow>): AccountEventRow => ({
  kind: 'phone_quality',
  event: '',
  wabaId: 'W',
  phoneNumberId: 'P1',
  messagingLimit: null,
  throughputMps: null,
  value: '{}',
  occurredAt: '2026-01-01 00:00:00.000',
  ...row,
});

describe('senderPanel', () => {
  // https://developers.facebook.com/documentation/business-messaging/whatsapp/webhooks/reference/phone_number_quality_update
  it('places a quality event that names the number only by display number on the right sender', () => {
    const newestFirst = [
      account({ phoneNumberId: '', displayPhoneNumber: '15550783881', event: 'FLAGGED', value: '{"display_phone_number":"15550783881","event":"FLAGGED"}' }),
      account({ phoneNumberId: '', displayPhoneNumber: '15550783881', event: 'THROUGHPUT_UPGRADE', throughputMps: 1_000 }),
      account({ phoneNumberId: 'P1', displayPhoneNumber: '15550783881', event: 'UNFLAGGED' }),
      account({ phoneNumberId: '', displayPhoneNumber: '15550000000', event: 'FLAGGED' }), // a number analytics cannot place
    ];
    const [p1, p2] = senderPanel([sends('P1', 'W', 60), sends('P2', 'W', 60)], new Map(), newestFirst);
    expect(p1).toMatchObject({ sender: 'P1', quality: 'RED', allowedMps: 1_000 });
    expect(p2).toMatchObject({ sender: 'P2', quality: null, allowedMps: null });
  });

  it('says nothing it was not told: no account events leave allowed rate, quality and limit null', () => {
    const [row] = senderPanel([sends('P1', 'W', 120)], new Map(), []);
    expect(row).toMatchObject({
      achievedMps: 2,
      allowedMps: null,
      quality: null,
      messagingLimit: null,
      limitUse: null,
      throttled130429: 2,
      pairLimited131056: 1,
    });
  });

  it('takes the newest value of each kind, an explicit rating before the event name, and the limit of the account', () => {
    const newestFirst = [
      account({ event: 'UPGRADE', value: '{"event":"UPGRADE"}' }), // says nothing about the rating
      account({ event: 'FLAGGED', value: '{"event":"FLAGGED","quality_rating":"YELLOW"}' }),
      account({ event: 'UNFLAGGED' }),
      account({ event: 'THROUGHPUT_UPGRADE', throughputMps: 1000 }),
      account({ kind: 'business_capability', phoneNumberId: '', messagingLimit: 2000 }),
      account({ kind: 'business_capability', phoneNumberId: '', messagingLimit: 250 }),
    ];
    const rows = senderPanel([sends('P1', 'W', 30, 100), sends('P2', 'W', 0, 400)], new Map([['W', 500]]), newestFirst);
    expect(rows[0]).toMatchObject({ achievedMps: 0.5, allowedMps: 1000, quality: 'YELLOW', messagingLimit: 2000, portfolioRecipients24h: 500, limitUse: 0.25 });
    // The other number of the same account shares its limit but has no rating or throughput of its own.
    expect(rows[1]).toMatchObject({ allowedMps: null, quality: null, messagingLimit: 2000, limitUse: 0.25 });
  });

  it('maps FLAGGED to red when the value carries no rating', () => {
    const [row] = senderPanel([sends('P1', 'W', 0)], new Map(), [account({ event: 'FLAGGED', value: 'not json' })]);
    expect(row!.quality).toBe('RED');
  });
});
