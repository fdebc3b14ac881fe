import { z } from 'zod';
import { notificationRequestV1 } from './contracts/notification-request';

/** Where the published JSON Schema of the upstream input contract lives in the repo. */
export const NOTIFICATION_REQUEST_SCHEMA_PATH = 'shared/schema/notification-request.v1.schema.json';

/**
 * The JSON Schema of `wa.notifications.requested` for upstream teams. Cross-field rules (exactly
 * one target, exactly one content) are zod refinements and are described in the schema's text.
 */
export function notificationRequestJsonSchema(): Record<string, unknown> {
  const schema = z.toJSONSchema(notificationRequestV1, { target: 'draft-2020-12', io: 'input', unrepresentable: 'any' });
  return {
    ...schema,
    $id: 'https://wa-broadcast.dev/schemas/notification-request.v1.schema.json',
    title: 'NotificationRequest v1',
    description:
      'A notification job on topic wa.notifications.requested (or POST /v1/notifications). Exactly one of to, recipients or audience; exactly one of template or text; fallbackTemplate only with text; expiresAt later than notBefore; authentication templates are never coalesced.',
  };
}

export function renderNotificationRequestJsonSchema(): string {
  return `${JSON.stringify(notificationRequestJsonSchema(), null, 2)}\n`;
}
