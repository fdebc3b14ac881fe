import { describe, expect, it } from 'vitest';
import { encodeTsv, tsvValue } from '../../src/adapters/tsv';

describe('TSV encoding for ClickHouse inserts', () => {
  it('escapes the characters TabSeparated gives a meaning to, and writes NULL as \\N', () => {
    expect(tsvValue('plain')).toBe('plain');
    expect(tsvValue('a\tb\nc\\d\re\0f')).toBe('a\\tb\\nc\\\\d\\re\\0f');
    expect(tsvValue('\\N')).toBe('\\\\N');
    expect(tsvValue(null)).toBe('\\N');
    expect(tsvValue(undefined)).toBe('\\N');
    expect(tsvValue(11_800)).toBe('11800');
    expect(tsvValue(true)).toBe('1');
    // JSON text first (its own \t escape), then TSV escaping of that backslash.
    expect(tsvValue({ a: 'x\ty' })).toBe('{"a":"x\\\\ty"}');
  });

  it("writes one line per row in the first row's column order, a missing or null key as NULL", () => {
    const { columns, body } = encodeTsv([
      { id: 'a', n: 1, at: null, note: 'tab\there' },
      { n: 2, id: 'b', note: 'new\nline' },
    ]);
    expect(columns).toEqual(['id', 'n', 'at', 'note']);
    expect(body).toBe('a\t1\t\\N\ttab\\there\nb\t2\t\\N\tnew\\nline\n');
  });

  it('encodes rows of different column lists independently', () => {
    expect(encodeTsv([{ x: 1 }]).body).toBe('1\n');
    expect(encodeTsv([{ y: 'q', x: 2 }]).body).toBe('q\t2\n');
    expect(encodeTsv([]).body).toBe('');
  });
});
