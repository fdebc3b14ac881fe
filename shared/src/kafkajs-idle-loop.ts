import { createRequire } from 'node:module';

/**
 * kafkajs 2.2.4 keeps every broker connection's request queue in a 1 ms timer loop once its first
 * response arrives: `scheduleCheckPendingRequests` arms `setTimeout(check, throttledUntil - now)`
 * even when nothing waits and nothing is throttled, the delay is negative (Node runs it after 1 ms),
 * and the check arms the next one. Every connection of every process then wakes ~1,000 times a
 * second, loaded or idle (github.com/tulios/kafkajs/issues/1556, #1704; fix proposed in PR #1667,
 * never released). This replaces the method with one that arms the timer only when a request waits
 * or a throttle is to be waited out; the other paths that send queued requests (a push, a response,
 * a request timeout) call `checkPendingRequests` themselves and are unchanged.
 */

/** The kafkajs releases whose RequestQueue this was written against. */
const PATCHED_KAFKAJS_VERSIONS = ['2.2.4'];
/** kafkajs' own poll interval for a queue whose in-flight limit is reached (CHECK_PENDING_REQUESTS_INTERVAL). */
const CHECK_PENDING_REQUESTS_INTERVAL_MS = 10;

/** The fields of kafkajs' RequestQueue the replacement reads and writes. */
export interface RequestQueueLike {
  pending: unknown[];
  throttledUntil: number;
  throttleCheckTimeoutId: NodeJS.Timeout | null;
  checkPendingRequests(): void;
  scheduleCheckPendingRequests(): void;
}

/** The replacement: arm a check only when a request waits, or a throttle ends later. */
export function scheduleCheckPendingRequests(this: RequestQueueLike): void {
  if (this.throttleCheckTimeoutId) return;
  const throttledForMs = this.throttledUntil - Date.now();
  if (this.pending.length === 0 && throttledForMs <= 0) return;
  const delayMs = throttledForMs > 0 ? throttledForMs : CHECK_PENDING_REQUESTS_INTERVAL_MS;
  this.throttleCheckTimeoutId = setTimeout(() => {
    this.throttleCheckTimeoutId = null;
    this.checkPendingRequests();
  }, delayMs);
}

const require = createRequire(import.meta.url);

/** kafkajs' RequestQueue class: the module instance kafkajs itself loads (one copy, no `exports` map). */
export function kafkajsRequestQueue(): { prototype: RequestQueueLike } {
  return require('kafkajs/src/network/requestQueue/index.js') as { prototype: RequestQueueLike };
}

/**
 * Installs the replacement on kafkajs' RequestQueue (once per process). Throws if kafkajs is a release
 * this was not checked against, so an upgrade makes someone look again rather than patch blindly.
 */
export function installKafkajsIdleLoopFix(): void {
  const { prototype } = kafkajsRequestQueue();
  if (prototype.scheduleCheckPendingRequests === scheduleCheckPendingRequests) return;
  const { version } = require('kafkajs/package.json') as { version: string };
  if (!PATCHED_KAFKAJS_VERSIONS.includes(version)) {
    throw new Error(
      `kafkajs ${version}: check whether its RequestQueue still loops while idle, then update PATCHED_KAFKAJS_VERSIONS (shared/src/kafkajs-idle-loop.ts)`,
    );
  }
  prototype.scheduleCheckPendingRequests = scheduleCheckPendingRequests;
}
