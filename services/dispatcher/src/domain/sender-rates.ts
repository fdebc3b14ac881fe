import type { InboundRate } from '@wa/shared/inbound-rate';
import type { Clock } from '../ports';
import { createAdaptiveRate, targetRate, type AdaptiveState } from './pacing';

export interface SenderRatesOptions {
  headroomFraction: number;
  decreaseFactor: number;
  coolDownMs: number;
  /** The number's current throughput limit (msg/s): read on every call, so a tier change applies at once. */
  limitOf: (phoneNumberId: string) => number;
  /** What people send to the number (msg/s, recent): room is left for it. Absent: only `headroomFraction`. */
  inboundOf?: (phoneNumberId: string) => InboundRate;
  clock: Clock;
}

export interface SenderRate {
  targetMps: number;
  limitMps: number;
  factor: number;
  /** Inbound messages per second the rate leaves room for (0 when unknown). */
  inboundMps: number;
  /** The inbound rate is held from older counts (the webhook path is behind): the guard allows no catch-up. */
  inboundHeld: boolean;
}

/**
 * The rate each number is paced at: its limit, minus room for inbound messages, times the adaptive factor that
 * throttle answers lower for a cool-down (per process).
 */
export class SenderRates {
  private readonly adaptive;
  private readonly adaptiveState = new Map<string, AdaptiveState>();
  /** Last limit seen per number and when it changed (throttles of sends released before that are not this limit's). */
  private readonly limitSeen = new Map<string, { limitMps: number; changedAt: number }>();

  constructor(private readonly options: SenderRatesOptions) {
    this.adaptive = createAdaptiveRate({ decreaseFactor: options.decreaseFactor, coolDownMs: options.coolDownMs });
  }

  rateOf(phoneNumberId: string): SenderRate {
    const limitMps = this.options.limitOf(phoneNumberId);
    const now = this.options.clock.now();
    const seen = this.limitSeen.get(phoneNumberId);
    if (!seen || seen.limitMps !== limitMps) this.limitSeen.set(phoneNumberId, { limitMps, changedAt: seen ? now : 0 });
    const state = this.adaptiveState.get(phoneNumberId);
    const factor = state ? this.adaptive.factorAt(state, now) : 1;
    const inbound = this.options.inboundOf?.(phoneNumberId);
    const inboundMps = inbound?.mps ?? 0;
    return {
      targetMps: targetRate(limitMps, this.options.headroomFraction, factor, inboundMps),
      limitMps,
      factor,
      inboundMps,
      inboundHeld: inbound?.held ?? false,
    };
  }

  /**
   * A throttle answer: slow the number down for a cool-down. An answer to a send released before
   * the number's limit last changed says nothing about the current limit (a downgrade Meta applied
   * before its webhook reached us) and does not slow it down.
   */
  onThrottle(phoneNumberId: string, sentAtMs?: number): void {
    this.rateOf(phoneNumberId);
    const changedAt = this.limitSeen.get(phoneNumberId)?.changedAt ?? 0;
    if (sentAtMs !== undefined && sentAtMs < changedAt) return;
    const state = this.adaptiveState.get(phoneNumberId) ?? this.adaptive.fresh();
    this.adaptiveState.set(phoneNumberId, this.adaptive.onThrottle(state, this.options.clock.now()));
  }
}
