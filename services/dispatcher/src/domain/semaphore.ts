import { Fifo } from './send-room';

/** A counting semaphore with a FIFO of waiters (jobs in their checks; Graph API connections). */
export function createSemaphore(limit: number) {
  let active = 0;
  const waiters = new Fifo<() => void>();
  return {
    /** Takes a permit if one is free, without waiting (no promise, no microtask). */
    tryAcquire(): boolean {
      if (active >= limit) return false;
      active++;
      return true;
    },
    async acquire(): Promise<void> {
      if (active < limit) {
        active++;
        return;
      }
      await new Promise<void>((resolve) => waiters.push(resolve));
    },
    release(): void {
      const next = waiters.shift();
      if (next) next();
      else active--;
    },
    get active() {
      return active;
    },
  };
}
export type Semaphore = ReturnType<typeof createSemaphore>;
