import type { GuardVerdict, LedgerEntry, SendGuard } from '../../src/ports';
import type { FakeTime } from './fake-time';

/**
 * Lua's string.format('%.3f', x) (C's printf): like toFixed(3), except that an exact tie rounds to even,
 * where toFixed rounds up. Ties happen: near 1.8e12 ms a double is a multiple of 1/4096, so x.xxx5 occurs.
 */
function f3(x: number): string {
  const exact = Math.abs(x).toFixed(20); // exact digits: a double this size has at most 12 fractional binary digits
  const dot = exact.indexOf('.');
  if (/^50*$/.test(exact.slice(dot + 4)) && Number(exact[dot + 3]) % 2 === 0) return `${x < 0 ? '-' : ''}${exact.slice(0, dot + 4)}`;
  return x.toFixed(3);
}

/**
 * The send guard's two Lua scripts (adapters/redis-send-guard.ts: gcraLua, sendGuardLua) and the move
 * (ZADD XX GT) as pure code over in-memory keys, with the time given: the one model of the guard. The
 * property test (test/integration/send-guard-model.int.test.ts) feeds it and the scripts on real Redis the
 * same random sequences; the scheduler's unit tests run against it (FakeGuard). Expiry is not modelled.
 */
export class GuardModel {
  private readonly strings = new Map<string, string>();
  private readonly zsets = new Map<string, Map<string, number>>();

  /** gcraLua: ARGV = intervalMs, count, catch-up ms. Returns 'first|now'. */
  gcraReserve(key: string, intervalMs: string, count: number, catchUpMs: number, now: number): string {
    const tat = Number(this.strings.get(key) ?? '0');
    const first = tat < now - catchUpMs ? now : tat;
    this.strings.set(key, f3(first + Number(intervalMs) * count));
    return `${f3(first)}|${f3(now)}`;
  }

  /** sendGuardLua: KEYS = window, last admission, ledger claim; the reply string. */
  sendGuard(
    keys: [string, string, string?],
    a: { windowMs: number; cap: number; member: string; gapMs: string; value: string; attempt: number },
    now: number,
  ): string {
    const window = this.zset(keys[0]);
    for (const [member, score] of window) if (score <= now - a.windowMs) window.delete(member);
    const n = window.size;
    if (n >= a.cap) {
      const oldest = this.sorted(keys[0])[n - a.cap]!;
      return f3(oldest[1] + a.windowMs - now + 0.05);
    }
    const gap = Number(a.gapMs);
    if (gap > 0) {
      const last = this.strings.get(keys[1]);
      if (last !== undefined) {
        const since = now - Number(last);
        if (since < gap) return f3(gap - since);
      }
    }
    if (keys[2] !== undefined) {
      const v = this.strings.get(keys[2]);
      if (v !== undefined) {
        const cur = JSON.parse(v) as { st: string; a: number };
        if (!(cur.st === 'retry' && cur.a < a.attempt)) return `E${v}`;
      }
      this.strings.set(keys[2], a.value);
    }
    window.set(a.member, now);
    if (gap > 0) this.strings.set(keys[1], f3(now));
    return `A${f3(now)}`;
  }

  /** ZADD key XX GT score member: moves an existing member later, never earlier. */
  move(key: string, member: string, score: number): void {
    const window = this.zset(key);
    const cur = window.get(member);
    if (cur !== undefined && score > cur) window.set(member, score);
  }

  /** ZADD key NX score member: what the webhook normaliser does for an inbound message. */
  add(key: string, member: string, score: number): void {
    const window = this.zset(key);
    if (!window.has(member)) window.set(member, score);
  }

  /** A window's members by score (then member, as Redis orders them). */
  sorted(key: string): [string, number][] {
    return [...this.zset(key)].sort((x, y) => x[1] - y[1] || (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));
  }

  get(key: string): string | undefined {
    return this.strings.get(key);
  }

  private zset(key: string): Map<string, number> {
    let z = this.zsets.get(key);
    if (!z) this.zsets.set(key, (z = new Map()));
    return z;
  }
}

/**
 * A SendGuard over a GuardModel on fake time, `oneWayMs` from the scheduler each way (the script runs when
 * the request arrives). Replicas share one model. Counts its calls, and records every admission.
 */
export class FakeGuard implements SendGuard {
  admitCalls = 0;
  reserveCalls = 0;
  /** Admissions by number, with the model's time. */
  readonly admitted = new Map<string, number[]>();

  constructor(
    readonly model: GuardModel,
    private readonly time: FakeTime,
    private readonly options: {
      oneWayMs?: number;
      catchUpMs?: number;
      /** Extra delay on the way back only: a reply that waits in a busy process' socket. */
      replyDelayMs?: number;
    } = {},
  ) {}

  reserve(phoneNumberId: string, intervalMs: number, count: number): Promise<number> {
    this.reserveCalls++;
    return this.roundTrip(() => {
      const reply = this.model.gcraReserve(`rate:${phoneNumberId}`, intervalMs.toFixed(4), count, this.options.catchUpMs ?? 250, this.time.now());
      return Number(reply.split('|')[0]);
    });
  }

  admit(phoneNumberId: string, send: Parameters<SendGuard['admit']>[1]): Promise<GuardVerdict> {
    this.admitCalls++;
    return this.roundTrip((): GuardVerdict => {
      const key = windowKey(phoneNumberId);
      const { claim } = send;
      const args = { windowMs: send.windowMs, cap: send.cap, member: send.member, gapMs: send.gapMs.toFixed(3), value: claim.value, attempt: claim.attempt };
      const reply = this.model.sendGuard([key, `${key}:last-admission`, claim.key], args, this.time.now());
      if (reply.startsWith('E')) return { kind: 'known', existing: JSON.parse(reply.slice(1)) as LedgerEntry };
      if (!reply.startsWith('A')) return { kind: 'held', waitMs: Number(reply) };
      let list = this.admitted.get(phoneNumberId);
      if (!list) this.admitted.set(phoneNumberId, (list = []));
      list.push(this.time.now());
      return { kind: 'admitted', at: this.time.now() };
    });
  }

  /** As the adapter: the send happened `now - at` ago; Redis places it that far before its own present. */
  move(phoneNumberId: string, member: string, at: number): void {
    const agoMs = Math.max(0, this.time.now() - at);
    const apply = () => this.model.move(windowKey(phoneNumberId), member, this.time.now() - agoMs);
    const oneWay = this.options.oneWayMs ?? 0;
    if (oneWay > 0) this.time.setTimeout(apply, oneWay);
    else apply();
  }

  /** Where the number's sends sit in the shared window now (model time). */
  window(phoneNumberId: string): number[] {
    return this.model.sorted(windowKey(phoneNumberId)).map(([, score]) => score);
  }

  private roundTrip<T>(run: () => T): Promise<T> {
    const oneWay = this.options.oneWayMs ?? 0;
    const back = oneWay + (this.options.replyDelayMs ?? 0);
    if (oneWay <= 0 && back <= 0) return Promise.resolve(run());
    return new Promise<T>((resolve) => {
      const go = () => {
        const result = run();
        if (back > 0) this.time.setTimeout(() => resolve(result), back);
        else resolve(result);
      };
      if (oneWay > 0) this.time.setTimeout(go, oneWay);
      else go();
    });
  }
}

export const windowKey = (phoneNumberId: string) => `sent-window:${phoneNumberId}`;

/** The most of `times` within any span of `ms` (a sliding window counting both ends). */
export function densestWithin(times: readonly number[], ms: number): number {
  const t = [...times].sort((a, b) => a - b);
  let densest = 0;
  for (let i = 0, j = 0; i < t.length; i++) {
    while (t[i]! - t[j]! > ms) j++;
    densest = Math.max(densest, i - j + 1);
  }
  return densest;
}
