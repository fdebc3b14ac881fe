import { PairRateLimiter, SlidingWindowLimiter, UniqueRecipientWindow, WindowTracker } from './limits';
import type { Scenario } from './scenario';
import { limitNumber, type BusinessState, type PhoneState, type World } from './world';

const MAX_THROTTLE_EVENTS = 50;

/**
 * A 130429 with the sliding second that refused it: how many requests it held, how long ago the
 * oldest arrived, and the most that arrived within any 50 ms. Tells a burst (many in 50 ms) from a
 * window a few ms short (first arrival ~990 ms ago: a sender's own timing slightly compressed).
 */
export interface ThrottleEvent {
  phoneNumberId: string;
  atMs: number;
  inWindow: number;
  oldestAgoMs: number;
  densest50Ms: number;
  /** The simulator's own longest event-loop stall in the last second (real ms): how late its stamps may be. */
  loopLagMs?: number;
  /** How many of `inWindow` were inbound messages (they use the number's capacity too). */
  inboundInWindow?: number;
}

export function describeThrottle(phoneNumberId: string, now: number, stamps: readonly number[]): ThrottleEvent {
  let densest = 0;
  for (let i = 0, j = 0; j < stamps.length; j++) {
    while (stamps[j]! - stamps[i]! >= 50) i++;
    densest = Math.max(densest, j - i + 1);
  }
  const oldest = stamps.length > 0 ? now - stamps[0]! : 0;
  return { phoneNumberId, atMs: now, inWindow: stamps.length, oldestAgoMs: Math.round(oldest * 10) / 10, densest50Ms: densest };
}

/**
 * What the simulated Cloud API enforces per send, as live state over one world: throughput per
 * phone number, the pair rate, the service and free-entry-point windows, the portfolio's unique
 * recipients and the people who opted out. Pure over an injected "now" (sim-time ms).
 */
export class SendLimits {
  private readonly throughput: SlidingWindowLimiter[];
  private readonly pair: PairRateLimiter;
  private readonly uniques: UniqueRecipientWindow[];
  private readonly windowMs: number;
  private readonly serviceWindows: WindowTracker;
  private readonly fepWindows: WindowTracker;
  private readonly throttleEvents: ThrottleEvent[] = [];
  /** Recent inbound arrivals per number (sim-time ms, oldest first), to tell them apart in a refused window. */
  private readonly inboundStamps: number[][];
  /** Dynamic opt-outs/opt-ins (STOP/START) per business, overriding the seeded population. */
  private readonly optOut = new Map<string, boolean>();
  /** Inbound message ids and the number that received them, for mark-as-read (bounded: the oldest are forgotten). */
  private readonly received = new Map<string, number>();

  constructor(
    world: World,
    rules: Scenario['rules'],
    private readonly loopLagMs?: () => number,
  ) {
    this.throughput = world.phones.map((p) => new SlidingWindowLimiter(p.throughputMps, rules.throughputWindowMs));
    this.inboundStamps = world.phones.map(() => []);
    this.windowMs = rules.throughputWindowMs;
    this.pair = new PairRateLimiter(rules.pairRate.burst, rules.pairRate.intervalMs);
    this.uniques = world.businesses.map(() => new UniqueRecipientWindow(rules.messagingLimitWindowMs));
    this.serviceWindows = new WindowTracker(rules.serviceWindowMs);
    this.fepWindows = new WindowTracker(rules.freeEntryPointWindowMs);
  }

  /** Key of a (sender, person) pair for the pair rate and the windows. */
  static pairKey(phone: PhoneState, recipient: string): string {
    return `${phone.idx}:${recipient}`;
  }

  tryThroughput(phone: PhoneState, now: number): boolean {
    const limiter = this.throughput[phone.idx]!;
    if (limiter.tryAcquire(now)) return true;
    if (this.throttleEvents.length >= MAX_THROTTLE_EVENTS) this.throttleEvents.shift();
    const event = describeThrottle(phone.id, now, limiter.inWindow(now));
    if (this.loopLagMs) event.loopLagMs = this.loopLagMs();
    event.inboundInWindow = this.recentInbound(phone, now).length;
    this.throttleEvents.push(event);
    return false;
  }

  /** The latest 130429s with the window that caused each (oldest first). */
  throttles(): readonly ThrottleEvent[] {
    return this.throttleEvents;
  }

  setThroughput(phone: PhoneState, mps: number): void {
    this.throughput[phone.idx]!.setLimit(mps);
  }

  tryPair(pairKey: string, now: number): boolean {
    return this.pair.tryAcquire(pairKey, now);
  }

  isServiceWindowOpen(pairKey: string, now: number): boolean {
    return this.serviceWindows.isOpen(pairKey, now);
  }

  isFreeEntryPointOpen(pairKey: string, now: number): boolean {
    return this.fepWindows.isOpen(pairKey, now);
  }

  /** A business-initiated send: admitted if the person is already counted or the portfolio's limit has room. */
  tryUniqueRecipient(business: BusinessState, recipient: string, now: number): boolean {
    return this.uniques[business.idx]!.tryAdmit(recipient, now, limitNumber(business.messagingLimit));
  }

  uniqueRecipients(business: BusinessState, now: number): number {
    return this.uniques[business.idx]!.size(now);
  }

  /** A person wrote: opens the service window (and the free entry point for an ad referral); uses the number's capacity. */
  inbound(phone: PhoneState, from: string, referral: boolean, now: number): void {
    const key = SendLimits.pairKey(phone, from);
    this.serviceWindows.open(key, now);
    if (referral) this.fepWindows.open(key, now);
    this.throughput[phone.idx]!.force(now);
    this.recentInbound(phone, now).push(now);
  }

  /** This number's inbound arrivals within the throughput window ending `now` (older ones dropped). */
  private recentInbound(phone: PhoneState, now: number): number[] {
    const stamps = this.inboundStamps[phone.idx]!;
    let drop = 0;
    while (drop < stamps.length && stamps[drop]! <= now - this.windowMs) drop++;
    if (drop > 0) stamps.splice(0, drop);
    return stamps;
  }

  /** Remembers an inbound message id as received by this number. */
  receivedMessage(phone: PhoneState, id: string): void {
    if (this.received.size >= 1_000_000) this.received.delete(this.received.keys().next().value!);
    this.received.set(id, phone.idx);
  }

  /** Whether this number received the message (Meta refuses to mark any other id as read: 131009). */
  hasReceived(phone: PhoneState, id: string): boolean {
    return this.received.get(id) === phone.idx;
  }

  /** The person's STOP/START override for this business, if any. */
  optedOut(business: BusinessState, recipient: string): boolean | undefined {
    return this.optOut.get(`${business.idx}:${recipient}`);
  }

  setOptedOut(business: BusinessState, recipient: string, optedOut: boolean): void {
    this.optOut.set(`${business.idx}:${recipient}`, optedOut);
  }
}
