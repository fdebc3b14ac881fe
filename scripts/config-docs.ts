import type { z } from 'zod';
import { describeEnv } from '@wa/shared/config';
import { analyticsEnvSchema } from '../services/analytics/src/config';
import { dispatcherEnvSchema } from '../services/dispatcher/src/config';
import { ingestEnvSchema } from '../services/ingest/src/config';
import { webhookEnvSchema } from '../services/webhook/src/config';
import { cliConfigSchema } from '../tools/cli/src/config';

export const CONFIG_DOCS_PATH = 'docs/configuration.md';

const SECTIONS: ReadonlyArray<{ title: string; schema: z.ZodObject }> = [
  { title: 'ingest (services/ingest)', schema: ingestEnvSchema },
  { title: 'dispatcher (services/dispatcher)', schema: dispatcherEnvSchema },
  { title: 'webhook (services/webhook)', schema: webhookEnvSchema },
  { title: 'analytics (services/analytics)', schema: analyticsEnvSchema },
  { title: 'CLI (wa-broadcast)', schema: cliConfigSchema },
];

const escape = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The configuration reference, rendered from the services' zod schemas (the single source of truth). */
export function renderConfigDocs(): string {
  const parts = [
    '# Configuration reference',
    '',
    "Generated from each service's zod schema by `npm run docs:config`; `npm test` fails when this file is stale.",
    'Every service reads its environment once at start-up and refuses to start, naming every bad or missing variable.',
    'Secrets (tokens, app secrets, salts) come only from the environment.',
    '',
  ];
  for (const section of SECTIONS) {
    parts.push(`## ${section.title}`, '', '| variable | required | default | meaning |', '| --- | --- | --- | --- |');
    for (const row of describeEnv(section.schema)) {
      parts.push(
        `| \`${row.name}\` | ${row.required ? 'yes' : 'no'} | ${row.default === undefined ? '' : row.default === '' ? '(empty)' : `\`${escape(row.default)}\``} | ${escape(row.description)} |`,
      );
    }
    parts.push('');
  }
  return parts.join('\n');
}
