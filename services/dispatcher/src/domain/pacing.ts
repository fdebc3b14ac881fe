import { inboundBurst } from '@wa/shared/inbound-rate';

/**
 * Per-number pacing arithmetic. Meta (and the simulator) count requests in a *sliding* second, so a fixed
 * window counter (N per calendar second) can let 2N through across a boundary. We pace with GCRA
 * instead: every send takes the next free slot on a timeline spaced `1000 / rate` ms apart, so any
 * one-second window holds at most `rate` sends; the slots are reserved in Lua on Redis (adapters/
 * redis-send-guard.ts), so all replicas share one timeline per number, and handed out by SendScheduler.
 */

/**
 * Rate the dispatcher aims at: the number's limit, minus room for inbound messages (which count too), times the
 * adaptive factor. The room is the larger of the configured share and what people send to the number
 * (`inboundMps`, shared/inbound-rate.ts) plus a second's burst of it.
 */
export function targetRate(limitMps: number, headroomFraction: number, adaptiveFactor = 1, inboundMps = 0): number {
  const room = Math.max(limitMps * headroomFraction, inboundMps + inboundBurst(inboundMps));
  return Math.max(1, (limitMps - room) * adaptiveFactor);
}

/**
 * Most sends the guard lets through in any sliding window: halfway between the paced rate and the
 * limit. Above the paced rate, so evenly paced slots and a catch-up after a stall do not make it bind
 * (a binding window count echoes each gap one window later); below the limit, so sends that arrive
 * at Meta slightly compressed after the guard (network, HTTP pool, a scheduler hiccup) still fit.
 */
export function sendGuardCap(targetMps: number, limitMps: number, inboundMps = 0, inboundHeld = false): number {
  // While the inbound rate is held (the webhook path is behind), people's messages are not seen as they come:
  // no catch-up above the paced rate then, so all the room below the limit stays theirs.
  if (inboundHeld) return Math.max(1, Math.ceil(targetMps - 1e-9));
  // The burst of inbound messages one second may bring stays free even when the cap binds.
  limitMps -= inboundBurst(inboundMps);
  const paced = Math.ceil(targetMps - 1e-9);
  const limit = Math.floor(limitMps);
  return Math.max(1, Math.min(limit - 1, Math.max(paced, Math.floor((targetMps + limit) / 2))));
}

export function slotIntervalMs(rateMps: number): number {
  return 1000 / rateMps;
}

/**
 * The guard keeps sends at least this share of a slot apart: a bunch (from a stall) never forms, so
 * it cannot echo as a gap one window later, and held sends still drain faster than the slots come.
 * At 0.8 a few ms of jitter in the guard's round trips held an 80 msg/s number's sends about twice
 * each in bench:dispatch A (123 holds for 62 admissions a second).
 */
export const MIN_GAP_FRACTION = 0.5;
/**
 * The minimum gap applies only to slots at least this long (numbers up to ~83 msg/s): held sends drain one
 * timer tick at a time, and timers run late under load. At 10 ms it also covered ~97 msg/s pacing, where
 * a 1-2 ms late timer against an 8.2 ms gap held sends and cost 5-15 % (the 100 msg/s tier reached 84-94 %;
 * without the gap it paces at 97/s, the guard window still capping bunches).
 */
export const MIN_GAP_SLOT_MS = 12;

/** The minimum gap between two admissions of a number paced at `intervalMs` slots (0: none). */
export function minimumGapMs(intervalMs: number): number {
  // Below timer resolution a minimum gap would only make held sends poll; the window cap still holds.
  return intervalMs >= MIN_GAP_SLOT_MS ? Math.round(intervalMs * MIN_GAP_FRACTION * 1000) / 1000 : 0;
}

/**
 * How far behind the paced rate a held number's queue may catch up at once (in its slots' time), at no
 * more than twice the paced rate (HAND_ON_BURST_MS or a slot of slack), so a stall's backlog leaves
 * spread, not as a bunch (250 ms of catch-up was tried on 2026-12-02: no better within the runs' noise).
 */
const HAND_ON_CATCH_UP_MS = 20;
const HAND_ON_BURST_MS = 4;
/** Most queued sends handed on at once. */
const MAX_HANDED_ON = 16;

/** Where a held number's queue stands (local ms): how far it has handed on, on two timelines. */
export interface HandOnTimelines {
  /** The paced timeline: a slot per send handed on. */
  handedOnAt: number;
  /** The catch-up timeline: half a slot per send, so never more than twice the paced rate. */
  burstAt: number;
}

/**
 * How many queued sends of a held number are due at `at`: those due on the paced timeline since it last
 * handed on (at most HAND_ON_CATCH_UP_MS of slots behind), within twice the paced rate, `room` and
 * MAX_HANDED_ON. Brings the timelines up to the furthest behind they may be; `handedOn` moves them on.
 */
export function queuedSendsDue(t: HandOnTimelines, at: number, intervalMs: number, room: number): number {
  t.handedOnAt = Math.max(t.handedOnAt, at - HAND_ON_CATCH_UP_MS);
  t.burstAt = Math.max(t.burstAt, at - Math.max(HAND_ON_BURST_MS, intervalMs));
  return Math.max(0, Math.min(Math.floor((at - t.handedOnAt) / intervalMs), Math.floor((at - t.burstAt) / (intervalMs / 2)), room, MAX_HANDED_ON));
}

/** One queued send handed on: both timelines move on by its share of a slot. */
export function handedOn(t: HandOnTimelines, intervalMs: number): void {
  t.handedOnAt += intervalMs;
  t.burstAt += intervalMs / 2;
}

/** When the next queued send falls due on both timelines, looking no more often than every `tickMs`. */
export function nextHandOnAt(t: HandOnTimelines, intervalMs: number, tickMs: number): number {
  const step = Math.max(intervalMs, tickMs);
  return Math.max(t.handedOnAt + step, t.burstAt + step / 2);
}

/**
 * How many more sends a held queue may hand on now: what keeps the last window at the paced rate, not at
 * the guard's cap. A queue catching up to the cap ran the number at it second after second (each catch-up
 * echoing as room one window later), where 10 ms of arrival skew meets a 130429.
 */
export function pacedRoom(targetMps: number, windowMs: number, inWindow: number): number {
  return Math.max(0, Math.floor((targetMps * windowMs) / 1000) - inWindow);
}

export interface AdaptiveState {
  factor: number;
  /** Until this time the factor holds; afterwards it climbs back to 1 over one cool-down. */
  holdUntilMs: number;
  throttles: number;
}

export interface AdaptiveOptions {
  decreaseFactor: number;
  coolDownMs: number;
  minFactor?: number;
}

/** Adaptive back-off after throttle codes: multiplicative decrease, hold, then linear recovery. */
export function createAdaptiveRate(options: AdaptiveOptions) {
  const minFactor = options.minFactor ?? 0.1;
  const fresh = (): AdaptiveState => ({ factor: 1, holdUntilMs: 0, throttles: 0 });

  function factorAt(state: AdaptiveState, nowMs: number): number {
    if (state.factor >= 1) return 1;
    if (nowMs < state.holdUntilMs) return state.factor;
    if (options.coolDownMs <= 0) return 1;
    const recovered = state.factor + ((1 - state.factor) * (nowMs - state.holdUntilMs)) / options.coolDownMs;
    return Math.min(1, recovered);
  }

  function onThrottle(state: AdaptiveState, nowMs: number): AdaptiveState {
    const current = factorAt(state, nowMs);
    // A burst of throttle answers to requests already in flight is one signal, not many.
    const alreadyReacted = nowMs < state.holdUntilMs && nowMs - (state.holdUntilMs - options.coolDownMs) < 1_000;
    const factor = alreadyReacted ? current : Math.max(minFactor, current * options.decreaseFactor);
    return { factor, holdUntilMs: nowMs + options.coolDownMs, throttles: state.throttles + 1 };
  }

  return { fresh, factorAt, onThrottle };
}
export type AdaptiveRate = ReturnType<typeof createAdaptiveRate>;
