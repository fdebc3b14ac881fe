import { normalisePhone } from '@wa/shared/phone';

/**
 * CPU time per call, in µs, of `run` over `inputs` (after one warm-up pass), user + system, from
 * `rounds` passes: a single-threaded, allocation-light loop, so it reads the speed of one core.
 */
export function cpuMicrosPerCall<T>(run: (input: T) => unknown, inputs: readonly T[], rounds: number): number {
  for (const input of inputs) run(input);
  const start = process.cpuUsage();
  for (let r = 0; r < rounds; r++) for (const input of inputs) run(input);
  const cpu = process.cpuUsage(start);
  return Math.round(((cpu.user + cpu.system) / (rounds * inputs.length)) * 100) / 100;
}

/** `count` distinct German mobile numbers in E.164 ("+49151…"): phone validation's fast path. */
function germanMobileNumbers(count: number): string[] {
  return Array.from({ length: count }, (_, j) => `+49151${String(20_000_000 + j)}`);
}

/** Numbers and passes of the reading; `npm run bench:phone` measures its other cases alike. */
export const CORE_SPEED_NUMBERS = 40_000;
export const CORE_SPEED_ROUNDS = 5;
let measured: number | undefined;

/**
 * The speed of one core of this machine: µs of CPU to validate a German mobile number, the first
 * figure of `npm run bench:phone`. Reports carry it beside their CPU per unit of work, which scales
 * between machines by the ratio of these readings (README, Benchmarks). Measured once per process
 * (~0.5 s); a benchmark calls it before it starts its load, while the machine is quiet. On a shared host
 * the reading drifts too (2.6-5.4 µs a minute apart on one 2-core VM), as CPU per unit of work does:
 * it tells machines apart; runs on one machine are compared by interleaving them.
 */
export function coreSpeedMicros(): number {
  measured ??= cpuMicrosPerCall((text: string) => normalisePhone(text).ok, germanMobileNumbers(CORE_SPEED_NUMBERS), CORE_SPEED_ROUNDS);
  return measured;
}
