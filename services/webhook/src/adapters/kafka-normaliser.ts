import type { EachBatchPayload, KafkaMessage, Message, Producer, TopicMessages } from 'kafkajs';
import type { Logger } from 'pino';
import type { AccountEventV1, InboundEventV1, StatusEventV1 } from '@wa/shared/contracts/events';
import type { DeadLetterReason, DeadLetterV1 } from '@wa/shared/contracts/dead-letter';
import { decodeRawRecord, encodeRawRecord, type RawDelivery } from '@wa/shared/contracts/webhook-raw';
import type { Clock } from '@wa/shared/clock';
import type { BatchContext } from '@wa/shared/kafka-consumer-runner';
import { buildDeadLetter } from '@wa/shared/dead-letter';
import { topics } from '@wa/shared/topics';
import type { KeywordMatcher } from '../domain/keywords';
import { normaliseWebhook } from '../domain/normalise';
import { accountChanges, inboundChanges, type StateChange } from '../domain/state-changes';
import type { WebhookMetrics } from '../metrics';
import type { RedisState } from './redis-state';

export const NORMALISER_SERVICE_NAME = 'webhook-normaliser';

/** Raw records hold bodies of at most WEBHOOK_MAX_BODY_BYTES (base64 in format 1) plus a small envelope, within the topic's max.message.bytes. */
const RAW_RECORD_MAX_BYTES = 32 * 1_048_576;
const YIELD_EVERY_RECORDS = 25;

export interface NormaliserTopics {
  raw: string;
  status: string;
  inbound: string;
  account: string;
  dlq: string;
}

export interface NormaliserDeps {
  producer: Producer;
  state: RedisState;
  keywords: KeywordMatcher;
  topics: NormaliserTopics;
  metrics: WebhookMetrics;
  logger: Logger;
  clock: Clock;
  /** Counts each batch's inbound messages in their numbers' inbound rates and throughput windows, as soon as the batch is read. */
  inboundThroughput?: { count(events: readonly InboundEventV1[]): Promise<number> };
  /** Gets the inbound messages of each batch once they are committed (mark-as-read); must not block. */
  onInbound?: (events: InboundEventV1[]) => void;
}

type AnyEvent = { type: 'status'; event: StatusEventV1 } | { type: 'inbound'; event: InboundEventV1 } | { type: 'account'; event: AccountEventV1 };

interface BatchWork {
  events: Map<string, AnyEvent>;
  deadLetters: DeadLetterV1[];
  phoneNumbers: { phoneNumberId: string; displayPhoneNumber: string }[];
  inBatchDuplicates: number;
}

function eventLabel(e: AnyEvent): string {
  if (e.type === 'status') return e.event.status;
  if (e.type === 'inbound') return e.event.type;
  return e.event.kind;
}

/**
 * Consumes wa.webhooks.raw in batches and forwards normalised events. Per batch: decode → split
 * → drop events already forwarded (Redis) → produce events and DLQ records (acks=-1) → update the
 * dispatcher's Redis state → mark events forwarded → commit. A crash anywhere before the commit
 * replays the batch; every step is idempotent, and the dedupe marks are written only after the
 * events are in Kafka, so a replay can duplicate (at-least-once) but never lose.
 */
/** One delivery of a record holding several, as a record of its own (what a dead letter carries). */
function ownRecord(d: RawDelivery): Buffer {
  return encodeRawRecord([{ ...d, receivedAtMs: Date.parse(d.receivedAt) }]);
}

export class Normaliser {
  constructor(private readonly deps: NormaliserDeps) {}

  /** `value`: the record, or for one delivery of a record that holds several, that delivery alone (a format-2 record of one). */
  private deadLetter(message: KafkaMessage, partition: number, reason: DeadLetterReason, detail: string, value: Buffer | null = message.value): DeadLetterV1 {
    return buildDeadLetter({
      reason,
      detail,
      service: NORMALISER_SERVICE_NAME,
      source: { kind: 'kafka', topic: this.deps.topics.raw, partition, offset: message.offset },
      key: message.key,
      value,
      occurredAtMs: this.deps.clock.now(),
    });
  }

  /**
   * Decodes and splits a batch. CPU-bound, so it yields to the event loop every few deliveries: the
   * HTTP receiver shares this process and its acknowledgement latency must not wait for a batch.
   */
  private async split(messages: readonly KafkaMessage[], partition: number): Promise<BatchWork> {
    const work: BatchWork = { events: new Map(), deadLetters: [], phoneNumbers: [], inBatchDuplicates: 0 };
    let done = 0;
    for (const message of messages) {
      if (message.value !== null && message.value.length > RAW_RECORD_MAX_BYTES) {
        work.deadLetters.push(
          this.deadLetter(message, partition, 'record_too_large', `raw record: ${message.value.length} bytes; the limit is ${RAW_RECORD_MAX_BYTES}`),
        );
        continue;
      }
      const decoded = decodeRawRecord(message.value);
      if (!decoded.ok) {
        work.deadLetters.push(this.deadLetter(message, partition, decoded.reason, `raw record: ${decoded.detail}`));
        continue;
      }
      const single = decoded.deliveries.length === 1;
      for (const raw of decoded.deliveries) {
        if (done > 0 && done % YIELD_EVERY_RECORDS === 0) await new Promise((resolve) => setImmediate(resolve));
        done += 1;
        this.splitOne(work, raw, (reason, detail) => this.deadLetter(message, partition, reason, detail, single ? message.value : ownRecord(raw)));
      }
    }
    return work;
  }

  private splitOne(work: BatchWork, raw: RawDelivery, deadLetter: (reason: DeadLetterReason, detail: string) => DeadLetterV1): void {
    let body: unknown;
    try {
      if (!raw.isJson) throw new Error('the receiver flagged the body as not JSON');
      body = JSON.parse(raw.body.toString('utf8'));
    } catch (err) {
      work.deadLetters.push(deadLetter('invalid_json', `webhook body ${raw.deliveryId} is not JSON: ${(err as Error).message}`));
      return;
    }
    const normalised = normaliseWebhook(body, { deliveryId: raw.deliveryId, receivedAt: raw.receivedAt });
    if (normalised.invalid.length > 0) {
      const detail = `webhook ${raw.deliveryId}: ${normalised.invalid.map((i) => i.detail).join(' | ')}`;
      work.deadLetters.push(deadLetter('schema_violation', detail));
    }
    work.phoneNumbers.push(...normalised.phoneNumbers);
    const add = (e: AnyEvent) => {
      if (work.events.has(e.event.eventId)) work.inBatchDuplicates += 1;
      else work.events.set(e.event.eventId, e);
    };
    for (const event of normalised.status) add({ type: 'status', event });
    for (const event of normalised.inbound) add({ type: 'inbound', event });
    for (const event of normalised.account) add({ type: 'account', event });
  }

  /** The consumer runner's per-batch logic (see service.ts). */
  async handleBatch({ batch, heartbeat, isRunning, isStale }: EachBatchPayload, ctx: BatchContext): Promise<void> {
    if (batch.messages.length === 0 || !isRunning() || isStale()) return;
    const startedAt = performance.now();
    const { metrics, state, producer, topics: t } = this.deps;
    const work = await this.split(batch.messages, batch.partition);

    const ids = [...work.events.keys()];
    const inbound = this.deps.inboundThroughput ? [...work.events.values()].flatMap((e) => (e.type === 'inbound' ? [e.event] : [])) : [];
    const [alreadySeen, counted] = await Promise.all([state.seen(ids), inbound.length > 0 ? this.deps.inboundThroughput?.count(inbound) : 0]);
    if (inbound.length > 0) {
      metrics.inboundThroughput.inc({ result: 'counted' }, counted ?? 0);
      metrics.inboundThroughput.inc({ result: 'stale' }, inbound.length - (counted ?? 0));
    }
    const fresh = [...work.events.values()].filter((e) => !alreadySeen.has(e.event.eventId));
    for (const id of alreadySeen) metrics.dedupeHits.inc({ type: work.events.get(id)?.type ?? 'unknown' });
    if (work.inBatchDuplicates > 0) metrics.dedupeHits.inc({ type: 'in_batch' }, work.inBatchDuplicates);

    // Meta names a number in quality webhooks only by its display number: the account event carries
    // the id too when `metadata` paired them, so analytics (the dashboard's sender panel) can place it.
    await state.rememberPhoneNumbers(work.phoneNumbers);
    for (const e of fresh) {
      if (e.type !== 'account' || e.event.phoneNumberId !== undefined || e.event.displayPhoneNumber === undefined) continue;
      const id = await state.resolvePhoneNumberId(e.event.displayPhoneNumber);
      if (id !== undefined) e.event.phoneNumberId = id;
    }

    const byTopic = new Map<string, Message[]>();
    const push = (topic: string, message: Message) => {
      const list = byTopic.get(topic);
      if (list === undefined) byTopic.set(topic, [message]);
      else list.push(message);
    };
    for (const e of fresh) {
      if (e.type === 'status') push(t.status, { key: topics.eventsStatus.key(e.event), value: JSON.stringify(e.event) });
      else if (e.type === 'inbound') push(t.inbound, { key: topics.eventsInbound.key(e.event), value: JSON.stringify(e.event) });
      else push(t.account, { key: topics.eventsAccount.key(e.event), value: JSON.stringify(e.event) });
    }
    for (const d of work.deadLetters) push(t.dlq, { key: null, value: JSON.stringify(d) });
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    if (topicMessages.length > 0) await producer.sendBatch({ acks: -1, topicMessages });
    await heartbeat();

    const changes: StateChange[] = [];
    for (const e of fresh) {
      if (e.type === 'inbound') changes.push(...inboundChanges(e.event, this.deps.keywords));
      else if (e.type === 'account') changes.push(...accountChanges(e.event));
    }
    const applied = await state.apply(changes);
    for (const c of changes) metrics.stateChanges.inc({ kind: c.kind });
    for (const s of applied.skipped) {
      metrics.stateSkipped.inc({ kind: s.change.kind });
      this.deps.logger.warn({ change: s.change.kind, wabaId: 'wabaId' in s.change ? s.change.wabaId : undefined, reason: s.reason }, 'state change skipped');
    }
    await state.markSeen(fresh.map((e) => e.event.eventId));

    const last = batch.messages[batch.messages.length - 1];
    if (last !== undefined) await ctx.commit(last.offset);
    if (this.deps.onInbound) {
      const inbound = fresh.flatMap((e) => (e.type === 'inbound' ? [e.event] : []));
      if (inbound.length > 0) this.deps.onInbound(inbound);
    }
    for (const e of fresh) metrics.events.inc({ type: e.type, status: eventLabel(e) });
    for (const d of work.deadLetters) metrics.deadLetters.inc({ reason: d.reason });
    metrics.normaliserBatchDuration.observe((performance.now() - startedAt) / 1000);
  }
}
