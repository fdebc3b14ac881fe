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

describe('send ledger done encoding', () => {
  it('round-trips an event exactly, in two thirds of the bytes', () => {
    const stored = encodeDone(2, 1_772_355_601_250, sent);
    expect(parseLedgerEntry(stored, 'j_abc')).toEqual({ st: 'done', a: 2, at: 1_772_355_601_250, event: sent });
    expect(stored.length).toBeLessThan(JSON.stringify({ st: 'done', a: 2, at: 1_772_355_601_250, event: sent }).length * 0.7);
    // The Lua scripts read st and a.
    expect(JSON.parse(stored)).toMatchObject({ st: 'done', a: 2 });
  });

  it('keeps an eventId and attempt that differ from the defaults (an unknown outcome of an earlier attempt)', () => {
    const unknown: SentEventV1 = { ...sent, outcome: 'unknown', eventId: 'j_abc:1:deferred:5', attempt: 1, reason: 'died', wamid: undefined };
    delete unknown.wamid;
    expect(parseLedgerEntry(encodeDone(2, 5, unknown), 'j_abc')).toEqual({ st: 'done', a: 2, at: 5, event: unknown });
  });

  it('reads entries in the earlier encoding and the other states unchanged', () => {
    const old = JSON.stringify({ st: 'done', a: 2, at: 1, event: sent });
    expect(parseLedgerEntry(old, 'j_abc')).toEqual({ st: 'done', a: 2, at: 1, event: sent });
    expect(parseLedgerEntry('{"st":"claimed","a":0,"owner":"o","at":1}', 'j_abc')).toEqual({ st: 'claimed', a: 0, owner: 'o', at: 1 });
    expect(parseLedgerEntry('{"st":"retry","a":1,"at":1}', undefined)).toEqual({ st: 'retry', a: 1, at: 1 });
  });
});
