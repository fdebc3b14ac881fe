import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createAudienceFileReader } from '../../src/adapters/audience-file';
import { parseCsvHeader, parseCsvRecord } from '../../src/domain/audience-format';
import type { AudienceLine } from '../../src/ports';

function audience(name: string, content: string | Buffer): { root: string; file: string } {
  const root = mkdtempSync(join(tmpdir(), 'wa-aud-csv-'));
  writeFileSync(join(root, name), content);
  return { root, file: join(root, name) };
}

async function readAll(root: string, file: string, fromIndex = 0, chunkSize = 2): Promise<AudienceLine[]> {
  const out: AudienceLine[] = [];
  for await (const c of createAudienceFileReader(root).chunks(file, 'csv', fromIndex, chunkSize)) out.push(...c.lines);
  return out;
}

describe('CSV audiences are read record by record', () => {
  it('handles a BOM, CRLF, quoted commas, doubled quotes and newlines inside quotes', async () => {
    const csv = '\uFEFFto,body.1,body.2\r\n+4915112345678,"Ann, Berlin","line one\r\nline two"\r\n+4915112345679,"say ""hi""",x\r\n';
    const { root, file } = audience('a.csv', csv);
    const lines = await readAll(root, file);
    expect(lines.map((l) => [l.index, l.cells])).toEqual([
      [-1, ['to', 'body.1', 'body.2']],
      [0, ['+4915112345678', 'Ann, Berlin', 'line one\r\nline two']],
      [1, ['+4915112345679', 'say "hi"', 'x']],
    ]);
    // The record's own text is what a dead letter carries.
    expect(lines[1]!.text).toBe('+4915112345678,"Ann, Berlin","line one\r\nline two"');
    const layout = parseCsvHeader(lines[0]!.cells!)!;
    expect(parseCsvRecord(lines[1]!.cells!, layout, 0)).toEqual({
      ok: true,
      recipient: { index: 0, to: '+4915112345678', bodyParams: ['Ann, Berlin', 'line one\r\nline two'] },
    });
  });

  it('numbers blank lines (skipped by the parser) and short rows like any record, so a resume starts at the same place', async () => {
    const { root, file } = audience('b.csv', 'phone,body.1\n+4915112345678\n\n"+4915112345679",b\n');
    const lines = await readAll(root, file);
    expect(lines.map((l) => [l.index, l.cells])).toEqual([
      [-1, ['phone', 'body.1']],
      [0, ['+4915112345678']],
      [1, ['']],
      [2, ['+4915112345679', 'b']],
    ]);
    const layout = parseCsvHeader(lines[0]!.cells!)!;
    expect(parseCsvRecord(lines[1]!.cells!, layout, 0)).toEqual({ ok: true, recipient: { index: 0, to: '+4915112345678', bodyParams: [''] } });
    expect(parseCsvRecord(lines[2]!.cells!, layout, 1)).toEqual({ ok: 'skip' });
    const resumed = await readAll(root, file, 2);
    expect(resumed.map((l) => l.index)).toEqual([-1, 2]);
  });

  it('a quote left open fails the read as unreadable, naming no cell', async () => {
    const { root, file } = audience('c.csv', 'to\n+4915112345678\n"+4915112345679\n');
    await expect(readAll(root, file)).rejects.toMatchObject({
      code: 'audience_unreadable',
      message: expect.stringMatching(/^audience CSV cannot be parsed: Quote Not Closed/),
    });
  });

  it('a record longer than the cap fails the read', async () => {
    const { root, file } = audience('d.csv', `to,body.1\n+4915112345678,"${'x\n'.repeat(40_000)}"\n`);
    await expect(readAll(root, file)).rejects.toMatchObject({ code: 'audience_unreadable' });
  });
});
