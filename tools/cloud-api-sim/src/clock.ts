/** Sim-time in epoch milliseconds. Every rule and schedule in the simulator reads this, never Date.now(). */
export interface Clock {
  now(): number;
}

/**
 * Wall time sped up by `timeScale`: one real second is `timeScale` simulated seconds, so a 24 h
 * service window or messaging-limit window can pass in seconds of a test.
 */
export function createScaledClock(timeScale = 1, startMs = Date.now()): Clock {
  if (timeScale === 1) return { now: () => Date.now() };
  const realStart = performance.now();
  return { now: () => startMs + (performance.now() - realStart) * timeScale };
}

/** A clock that only moves when told to: for deterministic tests. */
export interface ManualClock extends Clock {
  set(ms: number): void;
  advance(ms: number): void;
}

export function createManualClock(startMs = 1_750_000_000_000): ManualClock {
  let t = startMs;
  return {
    now: () => t,
    set: (ms) => {
      t = ms;
    },
    advance: (ms) => {
      t += ms;
    },
  };
}
