import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';

const ROOT = resolve(import.meta.dirname, '..');
/** Meta's error-code table with the action taken for each code, and the pages it was taken from. */
export const META_ERRORS_DATA_PATH = 'shared/data/cloud-api-errors.json';
/** The typed table the dispatcher and the simulator import, generated from the data file. */
export const META_ERRORS_TS_PATH = 'shared/src/meta-error-codes.ts';

const ACTIONS = ['retry', 'throttle', 'permanent', 'fix_request', 'auth'] as const;

const tableSchema = z
  .object({
    $comment: z.string(),
    sources: z.array(z.url()).min(1),
    checked: z.iso.date(),
    actions: z.record(z.enum(ACTIONS), z.string()),
    codes: z
      .array(
        z.strictObject({
          code: z.number().int().nonnegative(),
          title: z.string().min(1),
          meaning: z.string().min(1),
          action: z.enum(ACTIONS),
          notes: z.string(),
        }),
      )
      .min(1),
  })
  .refine((t) => t.codes.every((row, i) => i === 0 || t.codes[i - 1]!.code < row.code), { message: 'codes must be unique and in ascending order' });

export type MetaErrorsTable = z.infer<typeof tableSchema>;

/** Reads and validates the data file; throws naming every problem. */
export function loadMetaErrorsTable(path = resolve(ROOT, META_ERRORS_DATA_PATH)): MetaErrorsTable {
  const parsed = tableSchema.safeParse(JSON.parse(readFileSync(path, 'utf8')));
  if (!parsed.success) throw new Error(`${path}: ${z.prettifyError(parsed.error)}`);
  return parsed.data;
}

/** The TypeScript module for `table`, byte for byte what `npm run meta-errors:gen` writes. */
export function renderMetaErrorCodes(table: MetaErrorsTable): string {
  const rows = table.codes.map(
    (r) => `  { code: ${r.code}, title: ${JSON.stringify(r.title)}, meaning: ${JSON.stringify(r.meaning)}, action: ${JSON.stringify(r.action)} },`,
  );
  return [
    `// Generated from ${META_ERRORS_DATA_PATH} by \`npm run meta-errors:gen\` (do not edit; a unit test keeps them in sync).`,
    `// Meta's pages, checked ${table.checked}:`,
    ...table.sources.map((url) => `//   ${url}`),
    "import type { MetaErrorAction } from './meta-errors';",
    '',
    'export interface MetaErrorCodeRow {',
    '  readonly code: number;',
    '  readonly title: string;',
    '  readonly meaning: string;',
    '  readonly action: MetaErrorAction;',
    '}',
    '',
    'export const META_ERROR_CODES: readonly MetaErrorCodeRow[] = [',
    ...rows,
    '];',
    '',
  ].join('\n');
}
