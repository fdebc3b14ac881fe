import { createHmac } from 'node:crypto';
import { Agent } from 'undici';
import { backoffDelayMs } from '@wa/shared/backoff';
import type { Clock } from './clock';
import { BucketScheduler } from './scheduler';
import type { Rng } from './rng';

export interface RetryPolicy {
  baseMs: number;
  factor: number;
  maxDelayMs: number;
  maxAttempts: number;
  maxAgeMs: number;
}

interface Delivery {
  id: number;
  body: Buffer;
  signature: string;
  kind: string;
  items: number;
  attempts: number;
  firstAt: number;
  lastError: string;
  duplicate: boolean;
}

export interface AbandonedDelivery {
  id: number;
  kind: string;
  items: number;
  attempts: number;
  firstAt: number;
  lastError: string;
  body: string;
}

export interface WebhookSenderStats {
  enqueued: number;
  posts: number;
  acknowledged: number;
  failedAttempts: number;
  retriesScheduled: number;
  abandoned: number;
  duplicatesSent: number;
  pending: number;
  inFlight: number;
  queued: number;
  awaitingRetry: number;
  droppedNoReceiver: number;
}

export interface WebhookSenderOptions {
  getUrl: () => string | undefined;
  appSecret: () => string;
  concurrency: number;
  timeoutMs: number;
  retry: RetryPolicy;
  duplicateFraction: number;
  clock: Clock;
  rng: Rng;
  retryGranularityMs: number;
}

export function signBody(body: Buffer | string, appSecret: string): string {
  return 'sha256=' + createHmac('sha256', appSecret).update(body).digest('hex');
}

/**
 * Posts signed webhook bodies with bounded concurrency over keep-alive connections, retries any
 * non-2xx or network failure with exponential backoff in sim-time, and records what was never
 * acknowledged (abandoned after maxAttempts or maxAgeMs).
 */
export class WebhookSender {
  private readonly agent: Agent;
  private queue: Delivery[] = [];
  private qHead = 0;
  private inFlight = 0;
  private nextId = 1;
  private readonly retries: BucketScheduler<Delivery>;
  private readonly abandonedList: AbandonedDelivery[] = [];
  private idleWaiters: (() => void)[] = [];
  private closed = false;
  readonly stats: WebhookSenderStats = {
    enqueued: 0,
    posts: 0,
    acknowledged: 0,
    failedAttempts: 0,
    retriesScheduled: 0,
    abandoned: 0,
    duplicatesSent: 0,
    pending: 0,
    inFlight: 0,
    queued: 0,
    awaitingRetry: 0,
    droppedNoReceiver: 0,
  };

  constructor(private readonly opts: WebhookSenderOptions) {
    this.agent = new Agent({
      connections: opts.concurrency,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: opts.timeoutMs,
      bodyTimeout: opts.timeoutMs,
    });
    this.retries = new BucketScheduler<Delivery>(opts.retryGranularityMs);
  }

  /** Queues one POST; `items` is how many statuses/messages/events the body carries. */
  enqueue(body: string, kind: string, items: number): void {
    if (this.closed) return;
    if (this.opts.getUrl() === undefined) {
      this.stats.droppedNoReceiver += items;
      return;
    }
    const buf = Buffer.from(body, 'utf8');
    this.stats.enqueued++;
    this.push({
      id: this.nextId++,
      body: buf,
      signature: signBody(buf, this.opts.appSecret()),
      kind,
      items,
      attempts: 0,
      firstAt: this.opts.clock.now(),
      lastError: '',
      duplicate: false,
    });
  }

  private push(d: Delivery): void {
    this.queue.push(d);
    this.pump();
  }

  /** Moves retries that are due back into the queue. */
  tick(now: number): void {
    const due = this.retries.takeDue(now);
    for (const d of due) this.queue.push(d);
    if (due.length > 0) this.pump();
    this.maybeIdle();
  }

  private pump(): void {
    while (this.inFlight < this.opts.concurrency && this.qHead < this.queue.length) {
      const d = this.queue[this.qHead++]!;
      this.inFlight++;
      void this.post(d);
    }
    if (this.qHead > 4096 && this.qHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.qHead);
      this.qHead = 0;
    }
  }

  private async post(d: Delivery): Promise<void> {
    const url = this.opts.getUrl();
    d.attempts++;
    this.stats.posts++;
    let ok = false;
    try {
      if (url === undefined) throw new Error('no receiver configured');
      const u = new URL(url);
      const res = await this.agent.request({
        origin: u.origin,
        path: u.pathname + u.search,
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          'x-hub-signature-256': d.signature,
          'user-agent': 'facebookexternalua',
        },
        body: d.body,
      });
      await res.body.dump();
      ok = res.statusCode >= 200 && res.statusCode < 300;
      if (!ok) d.lastError = `HTTP ${res.statusCode}`;
    } catch (err) {
      d.lastError = (err as Error).message || String(err);
    }
    this.inFlight--;
    if (ok) {
      this.stats.acknowledged++;
      if (!d.duplicate && this.opts.rng.chance(this.opts.duplicateFraction)) {
        this.stats.duplicatesSent++;
        this.queue.push({ ...d, id: this.nextId++, attempts: 0, firstAt: this.opts.clock.now(), duplicate: true });
      }
    } else {
      this.stats.failedAttempts++;
      this.scheduleRetry(d);
    }
    this.pump();
    this.maybeIdle();
  }

  private scheduleRetry(d: Delivery): void {
    const now = this.opts.clock.now();
    const r = this.opts.retry;
    if (this.closed || d.attempts >= r.maxAttempts || now - d.firstAt >= r.maxAgeMs) {
      this.stats.abandoned++;
      if (this.abandonedList.length < 10_000) {
        this.abandonedList.push({
          id: d.id,
          kind: d.kind,
          items: d.items,
          attempts: d.attempts,
          firstAt: d.firstAt,
          lastError: d.lastError,
          body: d.body.toString('utf8'),
        });
      }
      return;
    }
    this.stats.retriesScheduled++;
    const delay = backoffDelayMs(d.attempts - 1, { baseMs: r.baseMs, maxMs: r.maxDelayMs, factor: r.factor, jitter: 'none' });
    this.retries.add(now + delay, d);
  }

  snapshot(): WebhookSenderStats {
    const queued = this.queue.length - this.qHead;
    this.stats.inFlight = this.inFlight;
    this.stats.queued = queued;
    this.stats.awaitingRetry = this.retries.size;
    this.stats.pending = queued + this.inFlight + this.retries.size;
    return { ...this.stats };
  }

  abandoned(): AbandonedDelivery[] {
    return this.abandonedList.slice();
  }

  /** Nothing queued or in flight (retries waiting for their time do not count). */
  isIdle(): boolean {
    return this.inFlight === 0 && this.qHead >= this.queue.length;
  }

  whenIdle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private maybeIdle(): void {
    if (this.idleWaiters.length > 0 && this.isIdle()) {
      const w = this.idleWaiters;
      this.idleWaiters = [];
      for (const f of w) f();
    }
  }

  reset(): void {
    this.queue = [];
    this.qHead = 0;
    this.retries.clear();
    this.abandonedList.length = 0;
    for (const k of Object.keys(this.stats) as (keyof WebhookSenderStats)[]) this.stats[k] = 0;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.queue = [];
    this.qHead = 0;
    this.retries.clear();
    // A receiver that never answers must not hold close() for the whole request timeout.
    let timer: NodeJS.Timeout | undefined;
    const graceful = this.agent.close().then(
      () => true,
      () => false,
    );
    const timedOut = new Promise<boolean>((r) => {
      timer = setTimeout(() => r(false), 1000);
    });
    if (!(await Promise.race([graceful, timedOut]))) await this.agent.destroy().catch(() => undefined);
    clearTimeout(timer);
    this.maybeIdle();
  }
}
