import type { ConversationBook } from './conversations';
import { PRICING_TYPE, type MessageStore } from './message-store';
import type { Scenario } from './scenario';
import type { SendCounters } from './send-counters';
import type { SendLimits } from './send-limits';
import type { WebhookSender } from './webhook-sender';
import type { World } from './world';

/** What the ground-truth reports read: one world's live state. */
export interface GroundTruthParts {
  scenario: Scenario;
  world: World;
  store: MessageStore;
  conversations: ConversationBook;
  limits: SendLimits;
  counters: SendCounters;
  sender: WebhookSender;
  statusesPending: number;
  webhookUrl: string | undefined;
}

/** `GET /_sim/stats`: what was asked, accepted, refused and emitted, and the world as it is now. */
export function statsReport(p: GroundTruthParts, now: number): Record<string, unknown> {
  return {
    ...p.counters.totalsReport(),
    statusesPending: p.statusesPending,
    inbound: p.counters.inboundTotal,
    accountEvents: p.counters.accountEventTotal,
    phoneNumbers: Object.fromEntries(p.world.phones.map((phone) => [phone.id, p.counters.phoneReport(phone)])),
    businesses: Object.fromEntries(
      p.world.businesses.map((b) => [b.id, { messagingLimit: b.messagingLimit, uniqueRecipientsInWindow: p.limits.uniqueRecipients(b, now) }]),
    ),
    templates: p.world.templates.map((t) => ({ name: t.name, language: t.language, category: t.category, status: t.status })),
    duplicateSends: { count: p.store.duplicateCount(), items: p.store.duplicates(1000) },
    throttleEvents: p.limits.throttles(),
    webhooks: { url: p.webhookUrl ?? null, ...p.sender.snapshot() },
    memory: { messages: p.store.size, messageColumnsBytes: p.store.approxBytes(), heapUsedBytes: process.memoryUsage().heapUsed },
  };
}

/** `GET /_sim/messages/{wamid}`: one accepted message as the simulator recorded it. */
export function messageReport(p: GroundTruthParts, wamid: string): Record<string, unknown> | undefined {
  const i = p.store.indexOf(wamid);
  if (i < 0) return undefined;
  const v = p.store.view(i);
  const phone = p.world.phones[v.phoneIdx]!;
  return {
    id: v.wamid,
    phoneNumberId: phone.id,
    to: v.recipient,
    type: v.messageType,
    template: v.templateIdx >= 0 ? p.world.templates[v.templateIdx]!.name : null,
    category: v.category,
    pricing: { model: p.scenario.pricing.model, billable: v.billable, type: PRICING_TYPE.indexOf(v.pricingType) >= 0 ? v.pricingType : null },
    conversationId: v.convIdx >= 0 ? p.conversations.id(v.convIdx) : null,
    acceptedAt: new Date(v.acceptedAt).toISOString(),
    failCode: v.failCode || null,
    statusesEmitted: v.statuses,
    bizOpaqueCallbackData: v.bizOpaque ?? null,
  };
}
