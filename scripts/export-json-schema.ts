import { writeFileSync } from 'node:fs';
import { NOTIFICATION_REQUEST_SCHEMA_PATH, renderNotificationRequestJsonSchema } from '@wa/shared';

// Regenerates the published JSON Schema; shared/test/json-schema.test.ts fails when it is stale.
writeFileSync(NOTIFICATION_REQUEST_SCHEMA_PATH, renderNotificationRequestJsonSchema());
console.log(`wrote ${NOTIFICATION_REQUEST_SCHEMA_PATH}`);
