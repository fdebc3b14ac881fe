import type { Consumer } from 'kafkajs';
import type { InboundEventV1 } from '@wa/shared/contracts/events';
import { createKafka } from '@wa/shared/kafka';
import { createLogger } from '@wa/shared/logger';
import { topicName, topics } from '@wa/shared/topics';
import { callJson } from '@wa/cli/http-client';
import type { RunningStack } from '../stack';

/**
 * The demo's marketing template: an image header and a quick-reply button, as Meta lists it
 * (developers.facebook.com/documentation/business-messaging/whatsapp/templates/marketing-templates).
 */
export const DEMO_LAUNCH_TEMPLATE = {
  wabaId: '102290129340398',
  template: {
    name: 'spring_launch',
    language: 'en_US',
    category: 'marketing',
    status: 'APPROVED',
    components: [
      { type: 'HEADER', format: 'IMAGE', example: { header_handle: ['4::aW1n'] } },
      { type: 'BODY', text: 'Our spring range is here: {{1}} off everything this week.' },
      { type: 'FOOTER', text: 'Reply STOP to opt out' },
      { type: 'BUTTONS', buttons: [{ type: 'QUICK_REPLY', text: 'Show me offers' }] },
    ],
  },
};

/**
 * What the product answers a tap on the template's quick-reply button with, inside the service
 * window the tap opened: interactive reply buttons, as a reply to the tap (`replyTo`).
 */
export function replyToTap(e: InboundEventV1, campaignId: string): Record<string, unknown> | undefined {
  if (e.type !== 'button') return undefined;
  return {
    v: 1,
    idempotencyKey: `reply-${e.wamid}`.slice(0, 200),
    campaignId,
    sender: { phoneNumberId: e.phoneNumberId },
    to: e.from,
    replyTo: e.wamid,
    content: {
      type: 'interactive',
      interactive: {
        type: 'button',
        header: { type: 'text', text: 'Spring offers' },
        body: 'Which would you like to see first?',
        buttons: [
          { id: 'offers-women', title: 'Women' },
          { id: 'offers-men', title: 'Men' },
          { id: 'offers-home', title: 'Home' },
        ],
      },
    },
  };
}

/**
 * The demo's customer-service side: reads wa.events.inbound and answers each quick-reply tap
 * through the ingest API (one campaign id, so the summary counts the replies like any other message).
 */
export async function startResponder(stack: RunningStack, campaignId: string) {
  const env = stack.env.ingest;
  const kafka = createKafka({ brokers: env.KAFKA_BROKERS!.split(','), clientId: 'demo-responder', logger: createLogger({ service: 'demo', level: 'error' }) });
  const consumer: Consumer = kafka.consumer({ groupId: `demo-responder-${campaignId}`, maxWaitTimeInMs: 200 });
  const state = { sent: 0, inFlight: 0 };
  await consumer.connect();
  await consumer.subscribe({ topic: topicName(topics.eventsInbound, env.TOPIC_PREFIX ?? ''), fromBeginning: false });
  await consumer.run({
    eachMessage: async ({ message }) => {
      const e = JSON.parse(message.value?.toString('utf8') ?? '{}') as InboundEventV1;
      const request = replyToTap(e, campaignId);
      if (!request) return;
      state.inFlight += 1;
      try {
        await callJson('POST', `${stack.urls.ingest}/v1/notifications`, { token: stack.secrets.ingestToken, body: request });
        state.sent += 1;
      } catch {
        // A reply ingest refused is not retried: the demo goes on.
      } finally {
        state.inFlight -= 1;
      }
    },
  });
  return { state, stop: () => consumer.disconnect() };
}
