import { applyAccountEvent, type AccountEventInput } from './account-events';
import { LoopLag } from './loop-lag';
import type { Clock } from './clock';
import { ConversationBook } from './conversations';
import { errorEnvelope, graphError, type GraphError } from './graph-errors';
import { inboundMessage, inboundWamid, optOutKeyword, personReply, type InboundInput } from './inbound';
import { MediaStore } from './media';
import { CATEGORY, MESSAGE_TYPES, MessageStore } from './message-store';
import { messageReport, statsReport, type GroundTruthParts } from './ground-truth';
import { createPopulation, type Person } from './population';
import { priceSend } from './pricing';
import { createRng, type Rng } from './rng';
import type { Scenario } from './scenario';
import { SendCounters } from './send-counters';
import { SendLimits } from './send-limits';
import { acceptedBody, resolveSender, resolveTemplate } from './send-request';
import { SimInputError } from './sim-input-error';
import { TemplatePacing } from './template-pacing';
import { validateSendBody, type ParsedMessage } from './validate';
import { WebhookSchedule, phoneMetadata } from './webhook-schedule';
import { WebhookSender } from './webhook-sender';
import { buildWorld, type PhoneState, type World } from './world';

export interface SendResponse {
  httpStatus: number;
  body: Record<string, unknown>;
}

/**
 * The simulator's state and behaviour, without HTTP: composes request checks (send-request.ts),
 * limits (send-limits.ts), pricing (pricing.ts), the message store, the webhook schedule and the
 * ground-truth counters, and runs the send pipeline through them in Meta's order. The fastify app
 * is a thin adapter over this.
 */
export class SimCore {
  world!: World;
  store!: MessageStore;
  private conversations!: ConversationBook;
  private limits!: SendLimits;
  private counters!: SendCounters;
  private schedule!: WebhookSchedule;
  private pacing!: TemplatePacing;
  readonly rng: Rng;
  readonly person: (digits: string) => Person;
  readonly sender: WebhookSender;
  /** Uploaded media (media.ts). */
  readonly media = new MediaStore();
  webhookUrl: string | undefined;
  private ticker: NodeJS.Timeout | undefined;
  /** This process' event-loop stalls, reported with each 130429 (while the ticker runs: a live process). */
  private readonly loopLag = new LoopLag();

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
    this.limits = new SendLimits(this.world, s.rules, () => this.loopLag.maxWithin(1_000));
    this.counters = new SendCounters(this.world.phones.length);
    this.schedule = new WebhookSchedule({
      scenario: s,
      clock: this.clock,
      rng: this.rng,
      sender: this.sender,
      world: this.world,
      store: this.store,
      conversations: this.conversations,
      counters: this.counters,
    });
    this.pacing = new TemplatePacing(
      s.templatePacing,
      (at, task) => this.schedule.at(at, task),
      (template, held, verdict) => this.endPacing(template, held, verdict),
    );
    this.sender.reset();
    this.scheduleScripted();
  }

  private scheduleScripted(): void {
    const now = this.clock.now();
    for (const e of this.scenario.events) {
      this.schedule.at(now + e.atMs, () => {
        if (e.type === 'inbound') this.inbound({ phoneNumberId: e.phoneNumberId, from: e.from, text: e.text });
        else this.accountEvent(e);
      });
    }
  }

  /** Starts the emission loop (real-time interval; the work it does is in sim-time). */
  startTicker(): void {
    if (this.ticker) return;
    this.ticker = setInterval(() => this.tick(), this.scenario.webhooks.tickMs);
    this.ticker.unref();
    this.loopLag.start();
  }

  stopTicker(): void {
    if (this.ticker) clearInterval(this.ticker);
    this.ticker = undefined;
    this.loopLag.stop();
  }

  // ───────────────────────────── sending ─────────────────────────────

  private reject(phone: PhoneState | undefined, e: GraphError): SendResponse {
    this.counters.rejected(phone, e.code);
    return { httpStatus: e.httpStatus, body: errorEnvelope(e) };
  }

  /** One Graph API call to `POST /{version}/{phoneNumberId}/messages`. */
  send(phoneNumberId: string, authorization: string | undefined, body: unknown): SendResponse {
    const now = this.clock.now();
    this.counters.request();
    const phone = resolveSender(this.world, phoneNumberId, authorization);
    if ('code' in phone) return this.reject(undefined, phone);
    this.counters.phoneRequest(phone.idx, now);
    if (phone.waba.banned) return this.reject(phone, graphError(131031, 'Account has been locked'));

    const v = validateSendBody(body);
    if (!v.ok) return this.reject(phone, v.error);
    if (v.value.kind === 'mark_read') {
      // developers.facebook.com/documentation/business-messaging/whatsapp/messages/mark-message-as-read:
      // an id that is not a message this number received is 131009.
      if (!this.limits.hasReceived(phone, v.value.messageId)) return this.reject(phone, graphError(131009, 'message_id is not a received message'));
      this.counters.markRead(phone.idx);
      return { httpStatus: 200, body: { success: true } };
    }
    const msg = v.value;
    const f = this.scenario.faults;
    if (this.rng.chance(f.transientFraction)) {
      return this.reject(phone, graphError(131000, undefined, { httpStatus: f.transientHttpStatus }));
    }
    if (!this.limits.tryThroughput(phone, now)) return this.reject(phone, graphError(130429));
    if (msg.to === phone.displayPhoneNumber) return this.reject(phone, graphError(131021, 'Sender and recipient phone number is the same'));

    const template = resolveTemplate(phone.waba, msg, body);
    if ('code' in template) return this.reject(phone, template);
    const { templateIdx, category } = template;
    const pairKey = SendLimits.pairKey(phone, msg.to);
    if (!this.limits.tryPair(pairKey, now))
      return this.reject(phone, graphError(131056, undefined, { message: '(#131056) (Business Account, Consumer Account) pair rate limit hit' }));

    const windowOpen = this.limits.isServiceWindowOpen(pairKey, now);
    const fepOpen = this.limits.isFreeEntryPointOpen(pairKey, now);
    const person = this.person(msg.to);
    const failCode = this.deliveryFailure(phone, msg, body, person, category, windowOpen, fepOpen, now);
    if (failCode !== 0 && this.scenario.errorDelivery === 'sync') return this.reject(phone, graphError(failCode));

    // Business-initiated: a template outside an open service window. Only those count against the
    // portfolio's limit, and a person already in the rolling window does not count again.
    const businessInitiated = msg.template !== undefined && !windowOpen && !fepOpen;
    if (failCode === 0 && businessInitiated) {
      const biz = phone.waba.business;
      if (!this.limits.tryUniqueRecipient(biz, msg.to, now)) {
        const code = this.scenario.rules.messagingLimitCode;
        return this.reject(
          phone,
          graphError(code, `Messaging limit reached: the business portfolio may message ${biz.messagingLimit} unique customers in 24 hours`),
        );
      }
    }

    const price = priceSend(this.scenario.pricing, category, windowOpen, fepOpen, now);
    const convIdx = price.withConversation ? this.conversations.resolve(phone.waba.idx, msg.to, CATEGORY[category]!, fepOpen, now) : -1;
    const idx = this.store.add({
      phoneIdx: phone.idx,
      recipient: msg.to,
      acceptedAt: now,
      messageType: MESSAGE_TYPES.indexOf(msg.type),
      templateIdx,
      category,
      pricingType: price.pricingType,
      billable: price.billable,
      convIdx,
      failCode,
      bizOpaque: msg.bizOpaque,
    });
    this.counters.accepted(phone.idx, now);
    const held = failCode === 0 && templateIdx >= 0 && this.pacing.hold(this.world.templates[templateIdx]!, idx, now);
    if (held) return { httpStatus: 200, body: acceptedBody(body, msg, this.store.wamid(idx), 'held_for_quality_assessment') };
    this.schedule.statuses(idx, failCode, person, now);
    if (failCode === 0 && person.replies) this.scheduleReply(idx, phone, msg, person, now);
    return { httpStatus: 200, body: acceptedBody(body, msg, this.store.wamid(idx)) };
  }

  /** Template pacing's verdict: the held messages go out (statuses follow), or are dropped with the template paused. */
  private endPacing(template: World['templates'][number], held: number[], verdict: 'release' | 'pause'): void {
    const now = this.clock.now();
    if (verdict === 'release') template.quality = 'GREEN';
    else if (held.length > 0) {
      const wabaId = this.world.phones[this.store.phoneOf(held[0]!)]!.waba.id;
      this.accountEvent({ type: 'message_template_status_update', wabaId, name: template.name, language: template.language, event: 'PAUSED' });
    }
    for (const idx of held) {
      if (verdict === 'pause') this.store.setFailCode(idx, 132015);
      this.schedule.statuses(idx, verdict === 'pause' ? 132015 : 0, this.person(this.store.recipientOf(idx)), now);
    }
  }

  /**
   * The error a send that Meta accepts fails with later (a `failed` status), or 0: no open window
   * for a free-form message, expired media, a person not on WhatsApp, and for marketing an opt-out,
   * Meta's experiment group or the ecosystem throttle.
   */
  private deliveryFailure(
    phone: PhoneState,
    msg: ParsedMessage,
    body: unknown,
    person: Person,
    category: number,
    windowOpen: boolean,
    fepOpen: boolean,
    now: number,
  ): number {
    if (!msg.template && !windowOpen && !fepOpen) return 131047;
    if (this.media.missingIn(body, now).length > 0) return 131053;
    if (person.reachability === 'not_on_whatsapp') return 131026;
    if (category !== 1) return 0;
    const optedOut = this.limits.optedOut(phone.waba.business, msg.to) ?? person.reachability === 'opted_out';
    if (optedOut) return 131050;
    if (person.reachability === 'experiment') return 130472;
    if (!windowOpen && this.rng.chance(this.scenario.faults.ecosystemThrottleFraction)) return 131049;
    return 0;
  }

  private scheduleReply(idx: number, phone: PhoneState, msg: ParsedMessage, person: Person, now: number): void {
    const at = now + this.schedule.delay(this.scenario.webhooks.delaysMs.delivered) + this.schedule.delay(this.scenario.population.replyDelayMs);
    const reply = personReply(person, phone, msg, this.store.categoryOf(idx), this.store.wamid(idx));
    this.schedule.at(at, () => this.inbound(reply));
  }

  // ───────────────────────────── webhooks ─────────────────────────────

  /** Emits what is due. Called by the ticker; tests with a manual clock may call it directly. */
  tick(): void {
    this.schedule.tick();
  }

  /** Posts one webhook change (also used by the template and media modules). */
  post(wabaId: string, field: string, value: Record<string, unknown>, kind: string, items: number, withTime = false): void {
    this.schedule.post(wabaId, field, value, kind, items, withTime);
  }

  // ───────────────────────────── people and account events ─────────────────────────────

  /** A person writes to a business number: opens the service window, counts toward throughput. */
  inbound(input: InboundInput): { id: string } {
    const phone = this.world.phoneById.get(input.phoneNumberId);
    if (!phone) throw new SimInputError('phoneNumberId', `unknown phone number id ${input.phoneNumberId}`);
    const from = input.from.replace(/\D/g, '');
    if (!/^\d{6,15}$/.test(from)) throw new SimInputError('from', 'must be 6–15 digits');
    const now = this.clock.now();
    this.limits.inbound(phone, from, input.referral === true, now);
    const seq = this.counters.inbound(phone.idx);
    const optOut = optOutKeyword(input);
    if (optOut !== undefined) this.limits.setOptedOut(phone.waba.business, from, optOut);
    const id = inboundWamid(from, this.rng.next(), seq);
    this.limits.receivedMessage(phone, id);
    const value = {
      messaging_product: 'whatsapp',
      metadata: phoneMetadata(phone),
      contacts: [{ profile: { name: input.profileName ?? 'Sim User' }, wa_id: from }],
      messages: [inboundMessage(input, phone, from, id, now)],
    };
    this.post(phone.waba.id, 'messages', value, 'inbound', 1);
    return { id };
  }

  /** Applies an account event to the enforced world and emits its webhook. */
  accountEvent(e: AccountEventInput): void {
    this.counters.accountEvent();
    applyAccountEvent(e, this.world, this.limits, (wabaId, field, value) => this.post(wabaId, field, value, 'account', 1, true));
  }

  // ───────────────────────────── ground truth ─────────────────────────────

  private parts(): GroundTruthParts {
    const { scenario, world, store, conversations, limits, counters, sender, webhookUrl } = this;
    return { scenario, world, store, conversations, limits, counters, sender, webhookUrl, statusesPending: this.schedule.statusesPending };
  }

  stats(): Record<string, unknown> {
    return statsReport(this.parts(), this.clock.now());
  }

  message(wamid: string): Record<string, unknown> | undefined {
    return messageReport(this.parts(), wamid);
  }

  isServiceWindowOpen(phoneNumberId: string, recipient: string): boolean {
    const phone = this.world.phoneById.get(phoneNumberId);
    return phone ? this.limits.isServiceWindowOpen(SendLimits.pairKey(phone, recipient), this.clock.now()) : false;
  }

  async close(): Promise<void> {
    this.stopTicker();
    await this.sender.close();
  }
}
