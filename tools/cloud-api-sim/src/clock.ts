import type { Clock } from '@wa/shared/clock';

/** Sim-time in epoch milliseconds (the project's one Clock type). Every rule and schedule in the simulator reads it, never Date.now(). */
export type { Clock, ManualClock } from '@wa/shared/clock';
export { createManualClock } from '@wa/shared/clock';

/**
 * Wall time sped up by `timeScale`: one real second is `timeScale` simulated seconds, so a 24 h
 * service window or messaging-limit window can pass in seconds of a test.
 */
export function createScaledClock(timeScale = 1, startMs = Date.now()): Clock {
  if (timeScale === 1) return { now: () => Date.now() };
  const realStart = performance.now();
  return { now: () => startMs + (performance.now() - realStart) * timeScale };
}
