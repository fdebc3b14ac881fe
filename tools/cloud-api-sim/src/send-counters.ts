import { PeakRateMeter } from './limits';
import type { StatusName } from './message-store';
import type { PhoneState } from './world';

interface PhoneCounters {
  requests: number;
  accepted: number;
  rejectedByCode: Map<number, number>;
  failedByCode: Map<number, number>;
  inbound: number;
  markRead: number;
  peakRequests: PeakRateMeter;
  peakAccepted: PeakRateMeter;
}

const bump = (m: Map<number, number>, code: number): void => {
  m.set(code, (m.get(code) ?? 0) + 1);
};
const byCode = (m: Map<number, number>) => Object.fromEntries([...m].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]));

/** The simulator's ground-truth counters: what was asked, accepted, refused and emitted, per phone number and in total. */
export class SendCounters {
  private readonly phones: PhoneCounters[];
  private readonly totals = {
    requests: 0,
    accepted: 0,
    rejectedByCode: new Map<number, number>(),
    failedByCode: new Map<number, number>(),
    statuses: { sent: 0, delivered: 0, read: 0, failed: 0 } as Record<StatusName, number>,
    inbound: 0,
    accountEvents: 0,
    unattributedRejections: new Map<number, number>(),
  };

  constructor(phoneCount: number) {
    this.phones = Array.from({ length: phoneCount }, () => ({
      requests: 0,
      accepted: 0,
      rejectedByCode: new Map(),
      failedByCode: new Map(),
      inbound: 0,
      markRead: 0,
      peakRequests: new PeakRateMeter(1000),
      peakAccepted: new PeakRateMeter(1000),
    }));
  }

  /** A request reached the API (before its sender is known). */
  request(): void {
    this.totals.requests++;
  }

  /** The request names a phone number its token may use. */
  phoneRequest(phoneIdx: number, now: number): void {
    const p = this.phones[phoneIdx]!;
    p.requests++;
    p.peakRequests.record(now);
  }

  /** A synchronous error; without a phone number it is counted as unattributed. */
  rejected(phone: PhoneState | undefined, code: number): void {
    bump(phone ? this.phones[phone.idx]!.rejectedByCode : this.totals.unattributedRejections, code);
    bump(this.totals.rejectedByCode, code);
  }

  accepted(phoneIdx: number, now: number): void {
    const p = this.phones[phoneIdx]!;
    this.totals.accepted++;
    p.accepted++;
    p.peakAccepted.record(now);
  }

  markRead(phoneIdx: number): void {
    this.phones[phoneIdx]!.markRead++;
  }

  status(s: StatusName): void {
    this.totals.statuses[s]++;
  }

  failed(phoneIdx: number, code: number): void {
    bump(this.phones[phoneIdx]!.failedByCode, code);
    bump(this.totals.failedByCode, code);
  }

  /** Counts one inbound message and returns the running total (it numbers the inbound wamid). */
  inbound(phoneIdx: number): number {
    this.phones[phoneIdx]!.inbound++;
    return ++this.totals.inbound;
  }

  accountEvent(): void {
    this.totals.accountEvents++;
  }

  /** The totals part of `GET /_sim/stats`. */
  totalsReport(): Record<string, unknown> {
    const t = this.totals;
    return {
      requests: t.requests,
      accepted: t.accepted,
      rejected: [...t.rejectedByCode.values()].reduce((a, b) => a + b, 0),
      rejectedByCode: byCode(t.rejectedByCode),
      failedByCode: byCode(t.failedByCode),
      unattributedRejectionsByCode: byCode(t.unattributedRejections),
      statusesEmitted: { ...t.statuses },
    };
  }

  get inboundTotal(): number {
    return this.totals.inbound;
  }

  get accountEventTotal(): number {
    return this.totals.accountEvents;
  }

  /** One phone number's part of `GET /_sim/stats`. */
  phoneReport(phone: PhoneState): Record<string, unknown> {
    const s = this.phones[phone.idx]!;
    return {
      throughputMps: phone.throughputMps,
      quality: phone.quality,
      requests: s.requests,
      accepted: s.accepted,
      rejectedByCode: byCode(s.rejectedByCode),
      failedByCode: byCode(s.failedByCode),
      inbound: s.inbound,
      markRead: s.markRead,
      peakRequestsPerSecond: s.peakRequests.peak,
      peakAcceptedPerSecond: s.peakAccepted.peak,
    };
  }
}
