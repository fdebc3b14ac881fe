import type { Clock } from './clock';
import type { ConversationBook } from './conversations';
import { defaultDetails, titleOf } from './graph-errors';
import type { MessageStore, StatusName } from './message-store';
import { metaStringify } from './meta-json';
import type { Person } from './population';
import { addStatusPricing } from './pricing';
import type { Rng } from './rng';
import type { Scenario } from './scenario';
import { BucketScheduler } from './scheduler';
import type { SendCounters } from './send-counters';
import type { WebhookSender } from './webhook-sender';
import type { PhoneState, World } from './world';

const STATUS_NAMES: StatusName[] = ['sent', 'delivered', 'read', 'failed'];
const ERROR_HREF = 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/';

export type Task = () => void;

/** What one world's webhook schedule reads and updates. */
export interface WebhookScheduleDeps {
  scenario: Scenario;
  clock: Clock;
  rng: Rng;
  sender: WebhookSender;
  world: World;
  store: MessageStore;
  conversations: ConversationBook;
  counters: SendCounters;
}

export function phoneMetadata(phone: PhoneState): { display_phone_number: string; phone_number_id: string } {
  return { display_phone_number: phone.displayPhoneNumber, phone_number_id: phone.id };
}

/**
 * When each webhook falls due, in sim-time: the statuses of every accepted message (delays,
 * skipped and out-of-order statuses, batching per phone number) and deferred tasks (replies,
 * scripted events). `tick()` hands what is due to the webhook sender in Meta's envelope.
 */
export class WebhookSchedule {
  /** Pending statuses as message index × 4 + index in STATUS_NAMES. */
  private readonly statusQueue: BucketScheduler<number>;
  private readonly tasks: BucketScheduler<Task>;
  private readonly statusScratch: number[] = [];
  private readonly taskScratch: Task[] = [];

  constructor(private readonly d: WebhookScheduleDeps) {
    const gran = Math.max(1, d.scenario.webhooks.tickMs * d.scenario.timeScale);
    this.statusQueue = new BucketScheduler<number>(gran);
    this.tasks = new BucketScheduler<Task>(gran);
  }

  get statusesPending(): number {
    return this.statusQueue.size;
  }

  /** Runs `task` on the first tick at or after `atMs`. */
  at(atMs: number, task: Task): void {
    this.tasks.add(atMs, task);
  }

  delay(range: readonly [number, number]): number {
    return this.d.rng.between(range[0], range[1]);
  }

  /** Schedules the statuses of an accepted message: `failed` alone, or sent → delivered → read as the person behaves. */
  statuses(idx: number, failCode: number, person: Person, now: number): void {
    const w = this.d.scenario.webhooks;
    const rng = this.d.rng;
    const tSent = now + this.delay(w.delaysMs.sent);
    if (failCode !== 0) {
      this.statusQueue.add(tSent, idx * 4 + 3);
      return;
    }
    const tDelivered = tSent + this.delay(w.delaysMs.delivered);
    const steps: [number, number][] = [[tSent, 0]];
    if (!rng.chance(w.skipDeliveredFraction) || !person.reads) steps.push([tDelivered, 1]);
    if (person.reads) steps.push([tDelivered + this.delay(w.delaysMs.read), 2]);
    if (steps.length >= 2 && rng.chance(w.outOfOrderFraction)) {
      // Swap the times of two consecutive statuses: the later state arrives first.
      const k = Math.floor(rng.next() * (steps.length - 1));
      const a = steps[k]!;
      const b = steps[k + 1]!;
      [a[0], b[0]] = [b[0], a[0]];
    }
    for (const [t, s] of steps) this.statusQueue.add(t, idx * 4 + s);
  }

  /** Runs the due tasks, posts the due statuses and lets the sender retry what is due. */
  tick(): void {
    const now = this.d.clock.now();
    const tasks = this.tasks.takeDue(now, this.taskScratch);
    for (const t of tasks) t();
    tasks.length = 0;
    const due = this.statusQueue.takeDue(now, this.statusScratch);
    if (due.length > 0) this.emitStatuses(due, now);
    due.length = 0;
    this.d.sender.tick(now);
  }

  /** Posts one webhook change. */
  post(wabaId: string, field: string, value: Record<string, unknown>, kind: string, items: number, withTime = false): void {
    const entry: Record<string, unknown> = { id: wabaId };
    if (withTime) entry.time = Math.floor(this.d.clock.now() / 1000);
    entry.changes = [{ value, field }];
    const payload = { object: 'whatsapp_business_account', entry: [entry] };
    this.d.sender.enqueue(metaStringify(payload, this.d.scenario.webhooks.escapeSlashes), kind, items);
  }

  private statusObject(item: number, now: number): Record<string, unknown> {
    const idx = Math.floor(item / 4);
    const s = STATUS_NAMES[item & 3]!;
    const store = this.d.store;
    store.markStatus(idx, s);
    this.d.counters.status(s);
    const st: Record<string, unknown> = {
      id: store.wamid(idx),
      status: s,
      timestamp: String(Math.floor(now / 1000)),
      recipient_id: store.recipientOf(idx),
    };
    const opaque = store.opaqueOf(idx);
    if (opaque !== undefined) st.biz_opaque_callback_data = opaque;
    if (s === 'failed') {
      const code = store.failCodeOf(idx);
      this.d.counters.failed(store.phoneOf(idx), code);
      st.errors = [{ code, title: titleOf(code), message: titleOf(code), error_data: { details: defaultDetails(code) }, href: ERROR_HREF }];
      return st;
    }
    if (s === 'read') return st;
    addStatusPricing(st, s, idx, store, this.d.conversations, this.d.scenario.pricing.model);
    return st;
  }

  private emitStatuses(items: number[], now: number): void {
    const byPhone = new Map<number, number[]>();
    for (const it of items) {
      const p = this.d.store.phoneOf(Math.floor(it / 4));
      let l = byPhone.get(p);
      if (!l) byPhone.set(p, (l = []));
      l.push(it);
    }
    const w = this.d.scenario.webhooks;
    for (const [phoneIdx, list] of byPhone) {
      const phone = this.d.world.phones[phoneIdx]!;
      let i = 0;
      while (i < list.length) {
        const n = this.d.rng.chance(w.batchFraction) ? Math.min(w.maxBatchSize, list.length - i) : 1;
        const statuses = [];
        for (let k = 0; k < n; k++) statuses.push(this.statusObject(list[i + k]!, now));
        i += n;
        this.post(phone.waba.id, 'messages', { messaging_product: 'whatsapp', metadata: phoneMetadata(phone), statuses }, 'statuses', n);
      }
    }
  }
}
