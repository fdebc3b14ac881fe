import { getCountry } from 'countries-and-timezones';

export interface QuietHours {
  startHour: number;
  endHour: number;
}

/** "21-08" → {21, 8}; null when malformed. A window may wrap midnight. */
export function parseQuietHours(value: string): QuietHours | null {
  const m = /^(\d{1,2})-(\d{1,2})$/.exec(value.trim());
  if (!m) return null;
  const startHour = Number(m[1]);
  const endHour = Number(m[2]);
  if (startHour > 23 || endHour > 23 || startHour === endHour) return null;
  return { startHour, endHour };
}

export type Timing = { kind: 'expired'; detail: string } | { kind: 'hold'; untilMs: number } | { kind: 'now' };

/** Expiry wins over everything: an OTP past its expiry is recorded as expired, never sent late. */
export function requestTiming(job: { notBefore?: string; expiresAt?: string }, nowMs: number, toleranceMs: number): Timing {
  if (job.expiresAt !== undefined && Date.parse(job.expiresAt) <= nowMs) {
    return { kind: 'expired', detail: `expired at ${job.expiresAt}` };
  }
  if (job.notBefore !== undefined) {
    const due = Date.parse(job.notBefore);
    if (due - nowMs > toleranceMs) return { kind: 'hold', untilMs: due };
  }
  return { kind: 'now' };
}

/**
 * A not-before further ahead than the horizon is refused: such a request would sit in Redis (up to a record's
 * size) for as long as the caller wants. Returns the problem, or null.
 */
export function notBeforeBeyondHorizon(job: { notBefore?: string }, nowMs: number, horizonMs: number): string | null {
  if (job.notBefore === undefined) return null;
  const due = Date.parse(job.notBefore);
  if (due - nowMs <= horizonMs) return null;
  return `notBefore ${job.notBefore} is more than ${Math.round(horizonMs / 86_400_000)} days ahead (NOT_BEFORE_HORIZON_DAYS)`;
}

const zonesByCountry = new Map<string, readonly string[]>();
function zonesOf(country: string): readonly string[] {
  let zones = zonesByCountry.get(country);
  if (!zones) {
    zones = getCountry(country)?.timezones ?? [];
    zonesByCountry.set(country, zones);
  }
  return zones;
}

const hourFormatters = new Map<string, Intl.DateTimeFormat>();
function localHourMinute(zone: string, nowMs: number): { hour: number; minute: number } {
  let f = hourFormatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-GB', { timeZone: zone, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
    hourFormatters.set(zone, f);
  }
  const parts = f.formatToParts(new Date(nowMs));
  return {
    hour: Number(parts.find((p) => p.type === 'hour')?.value ?? 0),
    minute: Number(parts.find((p) => p.type === 'minute')?.value ?? 0),
  };
}

function inWindow(hour: number, q: QuietHours): boolean {
  return q.startHour < q.endHour ? hour >= q.startHour && hour < q.endHour : hour >= q.startHour || hour < q.endHour;
}

/** Minutes from local time h:m until the window ends (the next `endHour`:00). */
function minutesUntilEnd(hour: number, minute: number, q: QuietHours): number {
  const nowMin = hour * 60 + minute;
  let endMin = q.endHour * 60;
  if (endMin <= nowMin) endMin += 24 * 60;
  return endMin - nowMin;
}

/**
 * When marketing to a person in `country` may be sent, given quiet hours in their local time.
 * A country spanning several time zones is quiet while any of its zones is (we would rather send
 * an hour late than wake someone up). Unknown countries are not held. Releases fall on a whole
 * local hour, so the holds of one broadcast batch well.
 */
export function quietHoursRelease(country: string, nowMs: number, q: QuietHours): number | null {
  let latest: number | null = null;
  for (const zone of zonesOf(country)) {
    const { hour, minute } = localHourMinute(zone, nowMs);
    if (!inWindow(hour, q)) continue;
    const release = Math.floor(nowMs / 60_000) * 60_000 + minutesUntilEnd(hour, minute, q) * 60_000;
    if (latest === null || release > latest) latest = release;
  }
  return latest;
}

/** Memoises `quietHoursRelease` per country and minute: a broadcast asks it once per recipient. */
export function createQuietHoursCalculator(q: QuietHours) {
  let minute = -1;
  const cache = new Map<string, number | null>();
  return (country: string, nowMs: number): number | null => {
    const m = Math.floor(nowMs / 60_000);
    if (m !== minute) {
      minute = m;
      cache.clear();
    }
    let v = cache.get(country);
    if (v === undefined) {
      v = quietHoursRelease(country, nowMs, q);
      cache.set(country, v);
    }
    return v;
  };
}
