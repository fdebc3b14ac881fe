import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { classifyMetaError } from '@wa/shared';
import { META_ERRORS_TS_PATH, loadMetaErrorsTable, renderMetaErrorCodes } from '../meta-error-codes';

const root = resolve(import.meta.dirname, '../..');

describe('Meta error-code table (shared/data/cloud-api-errors.json)', () => {
  const table = loadMetaErrorsTable();

  it('is what shared/src/meta-error-codes.ts was generated from (run `npm run meta-errors:gen` after editing it)', () => {
    expect(readFileSync(join(root, META_ERRORS_TS_PATH), 'utf8')).toBe(renderMetaErrorCodes(table));
  });

  it("names Meta's error-code page as its source", () => {
    expect(table.sources).toContain('https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/');
  });

  it('drives the classification: every documented code gets its action, not an HTTP-status guess', () => {
    const classOf = { retry: 'transient', throttle: 'throttle', permanent: 'permanent', fix_request: 'fix_request', auth: 'auth' } as const;
    for (const row of table.codes) {
      expect(classifyMetaError(row.code, 400), String(row.code)).toMatchObject({ errorClass: classOf[row.action], inferred: false, title: row.title });
    }
  });

  it('rejects a broken data file, naming every problem', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-meta-errors-'));
    const broken = structuredClone(table) as unknown as { sources: string[]; codes: Record<string, unknown>[] };
    broken.sources = ['not a url'];
    broken.codes[0]!.action = 'shrug';
    broken.codes.push({ ...broken.codes[1]! });
    writeFileSync(join(dir, 'broken.json'), JSON.stringify(broken));
    expect(() => loadMetaErrorsTable(join(dir, 'broken.json'))).toThrow(/sources[\s\S]*codes\[0\]\.action/);
    const unsorted = structuredClone(table);
    unsorted.codes.reverse();
    writeFileSync(join(dir, 'unsorted.json'), JSON.stringify(unsorted));
    expect(() => loadMetaErrorsTable(join(dir, 'unsorted.json'))).toThrow(/ascending order/);
  });
});
