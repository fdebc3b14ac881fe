import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NOTIFICATION_REQUEST_SCHEMA_PATH, renderNotificationRequestJsonSchema } from '../src';

describe('published JSON Schema of the input contract', () => {
  it('is up to date with the zod schema (regenerate with `npm run schema:export`)', () => {
    const committed = readFileSync(resolve(__dirname, '../..', NOTIFICATION_REQUEST_SCHEMA_PATH), 'utf8');
    expect(committed).toBe(renderNotificationRequestJsonSchema());
  });

  it('describes the fields upstream teams fill in', () => {
    const schema = JSON.parse(renderNotificationRequestJsonSchema()) as { properties: Record<string, unknown>; required: string[] };
    expect(Object.keys(schema.properties)).toEqual(expect.arrayContaining(['idempotencyKey', 'sender', 'to', 'recipients', 'audience', 'template', 'text']));
    expect(schema.required).toEqual(expect.arrayContaining(['v', 'idempotencyKey', 'sender']));
  });
});
