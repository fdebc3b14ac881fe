import type { Clock } from './clock';
import { ConversationBook } from './conversations';
import { AUTH_INVALID, AUTH_MISSING, UNKNOWN_OBJECT, defaultDetails, errorEnvelope, graphError, titleOf, type GraphError } from './graph-errors';
import { PairRateLimiter, PeakRateMeter, SlidingWindowLimiter, UniqueRecipientWindow, WindowTracker } from './limits';
import { CATEGORY, MESSAGE_TYPES, MessageStore, PRICING_TYPE, type StatusName } from './message-store';
import { metaStringify } from './meta-json';
import { createPopulation, type Person } from './population';
import { HIGH_MPS, THROUGHPUT_EVENTS, qualityAfter, qualityUpdateValue } from './phone-numbers';
import { createRng, type Rng } from './rng';
import type { Scenario } from './scenario';
import { BucketScheduler } from './scheduler';
import { validateSendBody, type ParsedMessage } from './validate';
import { WebhookSender } from './webhook-sender';
import { MediaStore } from './media';
import { checkTemplateSend } from './templates';
import { buildWorld, limitNumber, templateKey, type PhoneState, type World } from './world';

/** From this instant Meta bills service messages and utility templates inside the service window. */
export const SERVICE_BILLED_FROM_MS = Date.parse('2026-10-01T00:00:00Z');

const STATUS_NAMES: StatusName[] = ['sent', 'delivered', 'read', 'failed'];
const ERROR_HREF = 'https://developers.facebook.com/docs/whatsapp/cloud-api/support/error-codes/';

export interface SendResponse {
  httpStatus: number;
  body: Record<string, unknown>;
}

interface PhoneStats {
  requests: number;
  accepted: number;
  rejectedByCode: Map<number, number>;
  failedByCode: Map<number, number>;
  inbound: number;
  markRead: number;
  peakRequests: PeakRateMeter;
  peakAccepted: PeakRateMeter;
}

export interface InboundInput {
  phoneNumberId: string;
  from: string;
  type?: 'text' | 'button' | 'interactive';
  text?: string;
  /** Button payload or interactive reply id. */
  payload?: string;
  title?: string;
  interactiveKind?: 'button_reply' | 'list_reply';
  contextId?: string;
  profileName?: string;
  /** Came from a click-to-WhatsApp ad: opens a 72 h free entry point window too. */
  referral?: boolean;
}

export type AccountEventInput =
  | {
      type: 'phone_number_quality_update';
      phoneNumberId: string;
      event: string;
      quality?: 'GREEN' | 'YELLOW' | 'RED';
      messagingLimit?: Scenario['businesses'][number]['messagingLimit'];
      /** Throughput upgrade (Meta raises numbers to 1,000 mps automatically). */
      throughputMps?: number;
    }
  | { type: 'business_capability_update'; businessId?: string; wabaId?: string; messagingLimit: Scenario['businesses'][number]['messagingLimit'] }
  | { type: 'message_template_status_update'; wabaId: string; name: string; language?: string; event: string; reason?: string }
  | { type: 'account_update'; wabaId: string; value: Record<string, unknown> };

type Task = () => void;

/**
 * The simulator's state and behaviour, without HTTP: the send pipeline, the people, the
 * account events and the webhook emission. The fastify app is a thin adapter over this.
 */
export class SimCore {
  world!: World;
  store!: MessageStore;
  private conversations!: ConversationBook;
  private throughput!: SlidingWindowLimiter[];
  private phoneStats!: PhoneStats[];
  private pair!: PairRateLimiter;
  private uniques!: UniqueRecipientWindow[];
  private serviceWindows!: WindowTracker;
  private fepWindows!: WindowTracker;
  /** Dynamic opt-outs/opt-ins (STOP/START) per business, overriding the seeded population. */
  private optOut!: Map<string, boolean>;
  /** Inbound message ids by phone index, for mark-as-read (bounded: the oldest are forgotten). */
  private inboundIds!: Map<string, number>;
  private statusQueue!: BucketScheduler<number>;
  private tasks!: BucketScheduler<Task>;
  private totals!: {
    requests: number;
    accepted: number;
    rejectedByCode: Map<number, number>;
    failedByCode: Map<number, number>;
    statuses: Record<StatusName, number>;
    inbound: number;
    accountEvents: number;
    unattributedRejections: Map<number, number>;
  };
  readonly rng: Rng;
  readonly person: (digits: string) => Person;
  readonly sender: WebhookSender;
  /** Uploaded media (media.ts). */
  readonly media = new MediaStore();
  webhookUrl: string | undefined;
  private ticker: NodeJS.Timeout | undefined;
  private readonly statusScratch: number[] = [];
  private readonly taskScratch: Task[] = [];

  constructor(
    readonly scenario: Scenario,
    readonly clock: Clock,
    webhookUrl?: string,
  ) {
    this.rng = createRng(scenario.seed);
    this.person = createPopulation(scenario.population, scenario.seed);
    this.webhookUrl = webhookUrl ?? scenario.webhooks.url;
    const w = scenario.webhooks;
    this.sender = new WebhookSender({
      getUrl: () => this.webhookUrl,
      appSecret: () => scenario.appSecret,
      concurrency: w.concurrency,
      timeoutMs: w.timeoutMs,
      retry: w.retry,
      duplicateFraction: w.duplicateFraction,
      clock,
      rng: this.rng,
      retryGranularityMs: Math.max(1, w.tickMs * scenario.timeScale),
    });
    this.resetState();
  }

  /** Back to the scenario's initial world; counters, messages, windows and queues cleared. */
  resetState(): void {
    const s = this.scenario;
    this.world = buildWorld(s);
    this.store = new MessageStore();
    this.conversations = new ConversationBook(s.rules.conversationMs, Math.floor(this.rng.next() * 0xffffffff).toString(16));
    this.throughput = this.world.phones.map((p) => new SlidingWindowLimiter(p.throughputMps, s.rules.throughputWindowMs));
    this.phoneStats = this.world.phones.map(() => ({
      requests: 0,
      accepted: 0,
      rejectedByCode: new Map(),
      failedByCode: new Map(),
      inbound: 0,
      markRead: 0,
      peakRequests: new PeakRateMeter(1000),
      peakAccepted: new PeakRateMeter(1000),
    }));
    this.pair = new PairRateLimiter(s.rules.pairRate.burst, s.rules.pairRate.intervalMs);
    this.uniques = this.world.businesses.map(() => new UniqueRecipientWindow(s.rules.messagingLimitWindowMs));
    this.serviceWindows = new WindowTracker(s.rules.serviceWindowMs);
    this.fepWindows = new WindowTracker(s.rules.freeEntryPointWindowMs);
    this.optOut = new Map();
    this.inboundIds = new Map();
    const gran = Math.max(1, s.webhooks.tickMs * s.timeScale);
    this.statusQueue = new BucketScheduler<number>(gran);
    this.tasks = new BucketScheduler<Task>(gran);
    this.totals = {
      requests: 0,
      accepted: 0,
      rejectedByCode: new Map(),
      failedByCode: new Map(),
      statuses: { sent: 0, delivered: 0, read: 0, failed: 0 },
      inbound: 0,
      accountEvents: 0,
      unattributedRejections: new Map(),
    };
    this.sender.reset();
    this.scheduleScripted();
  }

  private scheduleScripted(): void {
    const now = this.clock.now();
    for (const e of this.scenario.events) {
      this.tasks.add(now + e.atMs, () => {
        if (e.type === 'inbound') this.inbound({ phoneNumberId: e.phoneNumberId, from: e.from, text: e.text });
        else if (e.type === 'phone_number_quality_update') this.accountEvent(e);
        else if (e.type === 'business_capability_update') this.accountEvent(e);
        else if (e.type === 'message_template_status_update') this.accountEvent(e);
        else this.accountEvent(e);
      });
    }
  }

  /** Starts the emission loop (real-time interval; the work it does is in sim-time). */
  startTicker(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => this.tick(), this.scenario.webhooks.tickMs);
    this.ticker.unref();
  }

  stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
  }

  // ───────────────────────────── sending ─────────────────────────────

  private reject(phone: PhoneState | undefined, e: GraphError): SendResponse {
    const map = phone ? this.phoneStats[phone.idx]!.rejectedByCode : this.totals.unattributedRejections;
    map.set(e.code, (map.get(e.code) ?? 0) + 1);
    this.totals.rejectedByCode.set(e.code, (this.totals.rejectedByCode.get(e.code) ?? 0) + 1);
    return { httpStatus: e.httpStatus, body: errorEnvelope(e) };
  }

  /** One Graph API call to `POST /{version}/{phoneNumberId}/messages`. */
  send(phoneNumberId: string, authorization: string | undefined, body: unknown): SendResponse {
    const now = this.clock.now();
    this.totals.requests++;
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7).trim() : undefined;
    if (!token) return this.reject(undefined, AUTH_MISSING());
    const waba = this.world.tokenToWaba.get(token);
    if (!waba) return this.reject(undefined, AUTH_INVALID());
    const phone = this.world.phoneById.get(phoneNumberId);
    if (!phone || phone.waba !== waba) return this.reject(undefined, UNKNOWN_OBJECT(phoneNumberId));
    const ps = this.phoneStats[phone.idx]!;
    ps.requests++;
    ps.peakRequests.record(now);

    const v = validateSendBody(body);
    if (!v.ok) return this.reject(phone, v.error);
    if (v.value.kind === 'mark_read') {
      // developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read:
      // an id that is not a message this number received is 131009.
      if (this.inboundIds.get(v.value.messageId) !== phone.idx) return this.reject(phone, graphError(131009, 'message_id is not a received message'));
      ps.markRead++;
      return { httpStatus: 200, body: { success: true } };
    }
    const msg = v.value;
    const f = this.scenario.faults;
    if (this.rng.chance(f.transientFraction)) {
      return this.reject(phone, graphError(131000, undefined, { httpStatus: f.transientHttpStatus }));
    }
    if (!this.throughput[phone.idx]!.tryAcquire(now)) return this.reject(phone, graphError(130429));
    if (msg.to === phone.displayPhoneNumber) return this.reject(phone, graphError(131021, 'Sender and recipient phone number is the same'));

    let templateIdx = -1;
    let category = 0; // service
    if (msg.template) {
      const tpl = waba.templates.get(templateKey(msg.template.name, msg.template.language));
      if (!tpl || tpl.status === 'REJECTED' || tpl.status === 'PENDING_DELETION') {
        return this.reject(phone, graphError(132001, `template name (${msg.template.name}) does not exist in ${msg.template.language}`));
      }
      if (tpl.status === 'PAUSED') return this.reject(phone, graphError(132015));
      if (tpl.status === 'DISABLED') return this.reject(phone, graphError(132016));
      const mismatch = checkTemplateSend(tpl, (body as { template?: unknown }).template);
      if (mismatch) return this.reject(phone, mismatch);
      templateIdx = tpl.idx;
      category = CATEGORY.indexOf(tpl.category);
    }
    const pairKey = `${phone.idx}:${msg.to}`;
    if (!this.pair.tryAcquire(pairKey, now))
      return this.reject(phone, graphError(131056, undefined, { message: '(#131056) (Business Account, Consumer Account) pair rate limit hit' }));

    const windowOpen = this.serviceWindows.isOpen(pairKey, now);
    const fepOpen = this.fepWindows.isOpen(pairKey, now);
    let failCode = 0;
    if (!msg.template && !windowOpen && !fepOpen) failCode = 131047;
    if (failCode === 0 && this.media.missingIn(body, now).length > 0) failCode = 131053;
    const person = this.person(msg.to);
    if (failCode === 0 && person.reachability === 'not_on_whatsapp') failCode = 131026;
    if (failCode === 0 && category === 1) {
      const dyn = this.optOut.get(`${phone.waba.business.idx}:${msg.to}`);
      const optedOut = dyn ?? person.reachability === 'opted_out';
      if (optedOut) failCode = 131050;
      else if (person.reachability === 'experiment') failCode = 130472;
      else if (!windowOpen && this.rng.chance(f.ecosystemThrottleFraction)) failCode = 131049;
    }
    if (failCode !== 0 && this.scenario.errorDelivery === 'sync') return this.reject(phone, graphError(failCode));

    // Business-initiated: a template outside an open service window. Only those count against the
    // portfolio's limit, and a person already in the rolling window does not count again.
    const businessInitiated = msg.template !== undefined && !windowOpen && !fepOpen;
    if (failCode === 0 && businessInitiated) {
      const biz = phone.waba.business;
      if (!this.uniques[biz.idx]!.tryAdmit(msg.to, now, limitNumber(biz.messagingLimit))) {
        const code = this.scenario.rules.messagingLimitCode;
        return this.reject(
          phone,
          graphError(code, `Messaging limit reached: the business portfolio may message ${biz.messagingLimit} unique customers in 24 hours`),
        );
      }
    }

    // Pricing by the rules in force at send time (Meta's pricing page): PMP from 2025-07-01 charges
    // each template except utility inside an open service window, and service messages are free;
    // from 2026-10-01 service and in-window utility are charged too. Free entry points stay free.
    let pricingType = 0;
    if (fepOpen) pricingType = 2;
    else if (now < SERVICE_BILLED_FROM_MS && (category === 0 || (category === 2 && windowOpen))) pricingType = 1;
    const cbp = this.scenario.pricing.model === 'CBP';
    const billable = cbp ? !fepOpen && category !== 0 : pricingType === 0;
    let convIdx = -1;
    // Under PMP, v24 status webhooks carry a `conversation` only for free entry points (v23 style with
    // `pmpConversationObject: true`).
    if (cbp || fepOpen || this.scenario.pricing.pmpConversationObject) {
      convIdx = this.conversations.resolve(phone.waba.idx, msg.to, CATEGORY[category]!, fepOpen, now);
    }
    const idx = this.store.add({
      phoneIdx: phone.idx,
      recipient: msg.to,
      acceptedAt: now,
      messageType: MESSAGE_TYPES.indexOf(msg.type),
      templateIdx,
      category,
      pricingType,
      billable,
      convIdx,
      failCode,
      bizOpaque: msg.bizOpaque,
    });
    this.totals.accepted++;
    ps.accepted++;
    ps.peakAccepted.record(now);
    this.scheduleStatuses(idx, failCode, person, now);
    if (failCode === 0 && person.replies) this.scheduleReply(idx, phone, msg, person, now);
    const wamid = this.store.wamid(idx);
    return {
      httpStatus: 200,
      body: {
        messaging_product: 'whatsapp',
        contacts: [{ input: typeof (body as { to?: unknown }).to === 'string' ? (body as { to: string }).to : msg.to, wa_id: msg.to }],
        messages: [msg.template ? { id: wamid, message_status: 'accepted' } : { id: wamid }],
      },
    };
  }

  private delay(range: readonly [number, number]): number {
    return this.rng.between(range[0], range[1]);
  }

  private scheduleStatuses(idx: number, failCode: number, person: Person, now: number): void {
    const w = this.scenario.webhooks;
    const tSent = now + this.delay(w.delaysMs.sent);
    if (failCode !== 0) {
      this.statusQueue.add(tSent, idx * 4 + 3);
      return;
    }
    const tDelivered = tSent + this.delay(w.delaysMs.delivered);
    const steps: [number, number][] = [[tSent, 0]];
    if (!this.rng.chance(w.skipDeliveredFraction) || !person.reads) steps.push([tDelivered, 1]);
    if (person.reads) steps.push([tDelivered + this.delay(w.delaysMs.read), 2]);
    if (steps.length >= 2 && this.rng.chance(w.outOfOrderFraction)) {
      // Swap the times of two consecutive statuses: the later state arrives first.
      const k = Math.floor(this.rng.next() * (steps.length - 1));
      const a = steps[k]!;
      const b = steps[k + 1]!;
      [a[0], b[0]] = [b[0], a[0]];
    }
    for (const [t, s] of steps) this.statusQueue.add(t, idx * 4 + s);
  }

  private scheduleReply(idx: number, phone: PhoneState, msg: ParsedMessage, person: Person, now: number): void {
    const p = this.scenario.population;
    const at = now + this.delay(this.scenario.webhooks.delaysMs.delivered) + this.delay(p.replyDelayMs);
    const contextId = this.store.wamid(idx);
    const category = this.store.categoryOf(idx);
    const tpl = msg.template;
    this.tasks.add(at, () => {
      if (person.saysStop && category === 'marketing') {
        this.inbound({ phoneNumberId: phone.id, from: msg.to, text: 'STOP', contextId });
      } else if (msg.replyOptions && msg.replyOptions.length > 0) {
        const o = msg.replyOptions[0]!;
        this.inbound({ phoneNumberId: phone.id, from: msg.to, type: 'interactive', payload: o.id, title: o.title, contextId });
      } else if (tpl && tpl.buttons.size > 0) {
        this.inbound({ phoneNumberId: phone.id, from: msg.to, type: 'button', payload: `${tpl.name}:0`, title: 'Yes', contextId });
      } else {
        this.inbound({ phoneNumberId: phone.id, from: msg.to, text: 'Thanks', contextId });
      }
    });
  }

  // ───────────────────────────── webhooks ─────────────────────────────

  /** Emits what is due. Called by the ticker; tests with a manual clock may call it directly. */
  tick(): void {
    const now = this.clock.now();
    const tasks = this.tasks.takeDue(now, this.taskScratch);
    for (const t of tasks) t();
    tasks.length = 0;
    const due = this.statusQueue.takeDue(now, this.statusScratch);
    if (due.length > 0) this.emitStatuses(due, now);
    due.length = 0;
    this.sender.tick(now);
  }

  private statusObject(item: number, now: number): Record<string, unknown> {
    const idx = Math.floor(item / 4);
    const s = STATUS_NAMES[item & 3]!;
    const store = this.store;
    store.markStatus(idx, s);
    this.totals.statuses[s]++;
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
      const ps = this.phoneStats[store.phoneOf(idx)]!;
      ps.failedByCode.set(code, (ps.failedByCode.get(code) ?? 0) + 1);
      this.totals.failedByCode.set(code, (this.totals.failedByCode.get(code) ?? 0) + 1);
      st.errors = [{ code, title: titleOf(code), message: titleOf(code), error_data: { details: defaultDetails(code) }, href: ERROR_HREF }];
      return st;
    }
    if (s === 'read') return st;
    const c = store.convOf(idx);
    const cbp = this.scenario.pricing.model === 'CBP';
    if (c >= 0) {
      const conv: Record<string, unknown> = { id: this.conversations.id(c) };
      if (s === 'sent') conv.expiration_timestamp = String(Math.floor(this.conversations.expiresAt(c) / 1000));
      conv.origin = { type: this.conversations.origin(c) };
      st.conversation = conv;
    }
    if (cbp) {
      st.pricing = { billable: store.billableOf(idx), pricing_model: 'CBP', category: c >= 0 ? this.conversations.origin(c) : store.categoryOf(idx) };
    } else {
      const type = store.pricingTypeOf(idx);
      const category = type === 'free_entry_point' ? 'referral_conversion' : store.categoryOf(idx);
      st.pricing = { billable: store.billableOf(idx), pricing_model: 'PMP', category, type };
    }
    return st;
  }

  private emitStatuses(items: number[], now: number): void {
    const byPhone = new Map<number, number[]>();
    for (const it of items) {
      const p = this.store.phoneOf(Math.floor(it / 4));
      let l = byPhone.get(p);
      if (!l) byPhone.set(p, (l = []));
      l.push(it);
    }
    const w = this.scenario.webhooks;
    for (const [phoneIdx, list] of byPhone) {
      const phone = this.world.phones[phoneIdx]!;
      let i = 0;
      while (i < list.length) {
        const n = this.rng.chance(w.batchFraction) ? Math.min(w.maxBatchSize, list.length - i) : 1;
        const statuses = [];
        for (let k = 0; k < n; k++) statuses.push(this.statusObject(list[i + k]!, now));
        i += n;
        this.post(phone.waba.id, 'messages', { messaging_product: 'whatsapp', metadata: this.metadata(phone), statuses }, 'statuses', n);
      }
    }
  }

  private metadata(phone: PhoneState): { display_phone_number: string; phone_number_id: string } {
    return { display_phone_number: phone.displayPhoneNumber, phone_number_id: phone.id };
  }

  /** Posts one webhook change (also used by the template and media modules). */
  post(wabaId: string, field: string, value: Record<string, unknown>, kind: string, items: number, withTime = false): void {
    const entry: Record<string, unknown> = { id: wabaId };
    if (withTime) entry.time = Math.floor(this.clock.now() / 1000);
    entry.changes = [{ value, field }];
    const payload = { object: 'whatsapp_business_account', entry: [entry] };
    this.sender.enqueue(metaStringify(payload, this.scenario.webhooks.escapeSlashes), kind, items);
  }

  // ───────────────────────────── people and account events ─────────────────────────────

  /** A person writes to a business number: opens the service window, counts toward throughput. */
  inbound(input: InboundInput): { id: string } {
    const phone = this.world.phoneById.get(input.phoneNumberId);
    if (!phone) throw new SimInputError('phoneNumberId', `unknown phone number id ${input.phoneNumberId}`);
    const from = input.from.replace(/\D/g, '');
    if (!/^\d{6,15}$/.test(from)) throw new SimInputError('from', 'must be 6–15 digits');
    const now = this.clock.now();
    const key = `${phone.idx}:${from}`;
    this.serviceWindows.open(key, now);
    if (input.referral) this.fepWindows.open(key, now);
    this.throughput[phone.idx]!.force(now);
    this.phoneStats[phone.idx]!.inbound++;
    this.totals.inbound++;
    const type = input.type ?? 'text';
    const text = input.text ?? input.title ?? '';
    const keyword = type === 'text' ? text.trim().toUpperCase() : '';
    const bizKey = `${phone.waba.business.idx}:${from}`;
    if (keyword === 'STOP' || keyword === 'UNSUBSCRIBE') this.optOut.set(bizKey, true);
    else if (keyword === 'START') this.optOut.set(bizKey, false);
    const id = `wamid.HBgL${Buffer.from(from).toString('base64').replace(/=+$/, '')}FQIAEhgg${Math.floor(this.rng.next() * 2 ** 48)
      .toString(16)
      .toUpperCase()
      .padStart(12, '0')}${this.totals.inbound.toString(16).toUpperCase().padStart(8, '0')}`;
    if (this.inboundIds.size >= 1_000_000) this.inboundIds.delete(this.inboundIds.keys().next().value!);
    this.inboundIds.set(id, phone.idx);
    const m: Record<string, unknown> = { from, id, timestamp: String(Math.floor(now / 1000)) };
    if (input.contextId) m.context = { from: phone.displayPhoneNumber, id: input.contextId };
    if (type === 'button') {
      m.type = 'button';
      m.button = { payload: input.payload ?? text, text: input.title ?? text };
    } else if (type === 'interactive') {
      const kind = input.interactiveKind ?? 'button_reply';
      m.type = 'interactive';
      m.interactive = { type: kind, [kind]: { id: input.payload ?? 'reply', title: input.title ?? text } };
    } else {
      m.type = 'text';
      m.text = { body: text || 'Hi' };
    }
    if (input.referral) m.referral = { source_type: 'ad', source_id: '120200000000000', source_url: 'https://fb.me/sim', ctwa_clid: 'sim' };
    this.post(
      phone.waba.id,
      'messages',
      {
        messaging_product: 'whatsapp',
        metadata: this.metadata(phone),
        contacts: [{ profile: { name: input.profileName ?? 'Sim User' }, wa_id: from }],
        messages: [m],
      },
      'inbound',
      1,
    );
    return { id };
  }

  /** Applies an account event to the enforced world and emits its webhook. */
  accountEvent(e: AccountEventInput): void {
    this.totals.accountEvents++;
    switch (e.type) {
      case 'phone_number_quality_update': {
        const phone = this.world.phoneById.get(e.phoneNumberId);
        if (!phone) throw new SimInputError('phoneNumberId', `unknown phone number id ${e.phoneNumberId}`);
        const quality = e.quality ?? qualityAfter(e.event);
        if (quality) phone.quality = quality;
        const mps = e.throughputMps ?? (THROUGHPUT_EVENTS.has(e.event) ? HIGH_MPS : undefined);
        if (mps !== undefined) {
          phone.throughputMps = mps;
          this.throughput[phone.idx]!.setLimit(mps);
        }
        const biz = phone.waba.business;
        const oldLimit = biz.messagingLimit;
        if (e.messagingLimit !== undefined) biz.messagingLimit = e.messagingLimit;
        this.post(phone.waba.id, 'phone_number_quality_update', qualityUpdateValue(phone, e.event, oldLimit, biz.messagingLimit), 'account', 1, true);
        return;
      }
      case 'business_capability_update': {
        const biz = e.businessId ? this.world.businessById.get(e.businessId) : e.wabaId ? this.world.wabaById.get(e.wabaId)?.business : undefined;
        if (!biz) throw new SimInputError(e.businessId ? 'businessId' : 'wabaId', 'unknown business / WABA');
        biz.messagingLimit = e.messagingLimit;
        const n = e.messagingLimit === 'unlimited' ? -1 : e.messagingLimit;
        for (const waba of this.world.wabas.filter((w) => w.business === biz)) {
          this.post(
            waba.id,
            'business_capability_update',
            {
              max_daily_conversations_per_business: n,
              ...(n === 250 ? { max_phone_numbers_per_business: 2 } : { max_phone_numbers_per_waba: 25 }),
            },
            'account',
            1,
            true,
          );
        }
        return;
      }
      case 'message_template_status_update': {
        const waba = this.world.wabaById.get(e.wabaId);
        if (!waba) throw new SimInputError('wabaId', `unknown WABA ${e.wabaId}`);
        const language = e.language ?? 'en_US';
        const tpl = waba.templates.get(templateKey(e.name, language));
        if (!tpl) throw new SimInputError('name', `unknown template ${e.name}/${language}`);
        const status = e.event === 'REINSTATED' || e.event === 'UNPAUSED' ? 'APPROVED' : e.event;
        if (status === 'APPROVED' || status === 'PAUSED' || status === 'DISABLED' || status === 'REJECTED' || status === 'PENDING_DELETION')
          tpl.status = status;
        const value: Record<string, unknown> = {
          event: e.event,
          message_template_id: Number(tpl.id),
          message_template_name: tpl.name,
          message_template_language: tpl.language,
          reason: e.reason ?? 'NONE',
        };
        if (e.event === 'PAUSED')
          value.other_info = {
            title: 'FIRST_PAUSE',
            description: 'Your WhatsApp message template has been paused for 3 hours until Jan 1 at 12:00 AM UTC because it had issues.',
          };
        this.post(waba.id, 'message_template_status_update', value, 'account', 1, true);
        return;
      }
      case 'account_update': {
        const waba = this.world.wabaById.get(e.wabaId);
        if (!waba) throw new SimInputError('wabaId', `unknown WABA ${e.wabaId}`);
        this.post(waba.id, 'account_update', e.value, 'account', 1, true);
        return;
      }
    }
  }

  // ───────────────────────────── ground truth ─────────────────────────────

  stats(): Record<string, unknown> {
    const obj = (m: Map<number, number>) => Object.fromEntries([...m].sort((a, b) => a[0] - b[0]).map(([k, v]) => [String(k), v]));
    const now = this.clock.now();
    const rejected = [...this.totals.rejectedByCode.values()].reduce((a, b) => a + b, 0);
    return {
      requests: this.totals.requests,
      accepted: this.totals.accepted,
      rejected,
      rejectedByCode: obj(this.totals.rejectedByCode),
      failedByCode: obj(this.totals.failedByCode),
      unattributedRejectionsByCode: obj(this.totals.unattributedRejections),
      statusesEmitted: { ...this.totals.statuses },
      statusesPending: this.statusQueue.size,
      inbound: this.totals.inbound,
      accountEvents: this.totals.accountEvents,
      phoneNumbers: Object.fromEntries(
        this.world.phones.map((p) => {
          const s = this.phoneStats[p.idx]!;
          return [
            p.id,
            {
              throughputMps: p.throughputMps,
              quality: p.quality,
              requests: s.requests,
              accepted: s.accepted,
              rejectedByCode: obj(s.rejectedByCode),
              failedByCode: obj(s.failedByCode),
              inbound: s.inbound,
              markRead: s.markRead,
              peakRequestsPerSecond: s.peakRequests.peak,
              peakAcceptedPerSecond: s.peakAccepted.peak,
            },
          ];
        }),
      ),
      businesses: Object.fromEntries(
        this.world.businesses.map((b) => [b.id, { messagingLimit: b.messagingLimit, uniqueRecipientsInWindow: this.uniques[b.idx]!.size(now) }]),
      ),
      templates: this.world.templates.map((t) => ({ name: t.name, language: t.language, category: t.category, status: t.status })),
      duplicateSends: { count: this.store.duplicateCount(), items: this.store.duplicates(1000) },
      webhooks: { url: this.webhookUrl ?? null, ...this.sender.snapshot() },
      memory: { messages: this.store.size, messageColumnsBytes: this.store.approxBytes(), heapUsedBytes: process.memoryUsage().heapUsed },
    };
  }

  message(wamid: string): Record<string, unknown> | undefined {
    const i = this.store.indexOf(wamid);
    if (i < 0) return undefined;
    const v = this.store.view(i);
    const phone = this.world.phones[v.phoneIdx]!;
    return {
      id: v.wamid,
      phoneNumberId: phone.id,
      to: v.recipient,
      type: v.messageType,
      template: v.templateIdx >= 0 ? this.world.templates[v.templateIdx]!.name : null,
      category: v.category,
      pricing: { model: this.scenario.pricing.model, billable: v.billable, type: PRICING_TYPE.indexOf(v.pricingType) >= 0 ? v.pricingType : null },
      conversationId: v.convIdx >= 0 ? this.conversations.id(v.convIdx) : null,
      acceptedAt: new Date(v.acceptedAt).toISOString(),
      failCode: v.failCode || null,
      statusesEmitted: v.statuses,
      bizOpaqueCallbackData: v.bizOpaque ?? null,
    };
  }

  isServiceWindowOpen(phoneNumberId: string, recipient: string): boolean {
    const phone = this.world.phoneById.get(phoneNumberId);
    return phone ? this.serviceWindows.isOpen(`${phone.idx}:${recipient}`, this.clock.now()) : false;
  }

  async close(): Promise<void> {
    this.stopTicker();
    await this.sender.close();
  }
}

/** Bad input to a `/_sim/` control call (400), naming the field. */
export class SimInputError extends Error {
  constructor(
    readonly field: string,
    message: string,
  ) {
    super(`${field}: ${message}`);
  }
}
