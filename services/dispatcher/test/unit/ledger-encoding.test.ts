import { describe, expect, it } from 'vitest';
import type { SentEventV1 } from '@wa/shared/contracts/sent-event';
import { encodeDone, parseLedgerEntry } from '../../src/adapters/redis-ledger';

const sent: SentEventV1 = {
  v: 1,
  eventId: 'j_abc:2',
  jobId: 'j_abc',
  requestKey: 'order-1',
  campaignId: 'spring',
  senderPhoneNumberId: '106540352242922',
  wabaId: '102290129340398',
  recipientHash: 'Zk2x9Q0mYtq3vS1bJc8rUw',
  recipientCountry: 'DE',
  template: 'order_update:en_US',
  category: 'utility',
  lane: 'utility',
  attempt: 2,
  outcome: 'sent',
  httpStatus: 200,
  wamid: 'wamid.HBgLMTU1NTAxMDAwMDAVAgARGBI0A',
  latencyMs: 41.5,
  requestedAt: '2026-03-01T09:00:00.000Z',
  occurredAt: '2026-03-01T09:00:01.250Z',
  metadata: { order: '1' },
};

describe('send ledger entry encoding', () => {
  it("keeps a 'done' event as produced to Kafka and reads it back exactly", () => {
    const stored = encodeDone(2, 1_772_355_601_250, JSON.stringify(sent));
    expect(parseLedgerEntry(stored, 'j_abc')).toEqual({ st: 'done', a: 2, at: 1_772_355_601_250, event: sent });
    // The Lua scripts (and the send guard's) read st and a.
    expect(JSON.parse(stored)).toMatchObject({ st: 'done', a: 2 });
  });

  it('reads the bucket entries: the state and attempt only', () => {
    expect(parseLedgerEntry('d2', 'j_abc')).toEqual({ st: 'done', a: 2 });
    expect(parseLedgerEntry('r11', 'j_abc')).toEqual({ st: 'retry', a: 11 });
  });

  it('reads entries written before the buckets: short field names, defaults left out, and the other states', () => {
    const short = JSON.stringify({
      st: 'done',
      a: 2,
      at: 1,
      e: { k: 'order-1', c: 'spring', s: '106540352242922', w: '102290129340398', r: 'Zk2x9Q0mYtq3vS1bJc8rUw', n: 'DE' },
    });
    expect(parseLedgerEntry(short, 'j_abc')).toEqual({
      st: 'done',
      a: 2,
      at: 1,
      event: {
        v: 1,
        jobId: 'j_abc',
        eventId: 'j_abc:2',
        attempt: 2,
        requestKey: 'order-1',
        campaignId: 'spring',
        senderPhoneNumberId: '106540352242922',
        wabaId: '102290129340398',
        recipientHash: 'Zk2x9Q0mYtq3vS1bJc8rUw',
        recipientCountry: 'DE',
      },
    });
    const old = JSON.stringify({ st: 'done', a: 2, at: 1, event: sent });
    expect(parseLedgerEntry(old, 'j_abc')).toEqual({ st: 'done', a: 2, at: 1, event: sent });
    expect(parseLedgerEntry('{"st":"claimed","a":0,"owner":"o","at":1}', 'j_abc')).toEqual({ st: 'claimed', a: 0, owner: 'o', at: 1 });
    expect(parseLedgerEntry('{"st":"retry","a":1,"at":1}', undefined)).toEqual({ st: 'retry', a: 1, at: 1 });
  });
});
