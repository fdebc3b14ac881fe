import { describe, expect, it } from 'vitest';
import { inlineParams, stringLiteral } from '../../src/adapters/inline-params';

describe('inlineParams (embedded engine)', () => {
  it('replaces each placeholder with a literal cast to its declared type', () => {
    const sql = 'SELECT * FROM t WHERE day = {d:Date} AND id = {id:String} AND n < {n:UInt32} AND c IN {campaigns:Array(String)} LIMIT {n:UInt32}';
    expect(inlineParams(sql, { d: '2026-12-06', id: 'camp-1', n: 5, campaigns: ['a', 'b'] })).toBe(
      "SELECT * FROM t WHERE day = CAST('2026-12-06' AS Date) AND id = CAST('camp-1' AS String) AND n < CAST(5 AS UInt32)" +
        " AND c IN CAST(['a', 'b'] AS Array(String)) LIMIT CAST(5 AS UInt32)",
    );
  });

  it('escapes quotes and backslashes so a value cannot end its literal', () => {
    expect(stringLiteral("x' OR 1=1 --")).toBe("'x\\' OR 1=1 --'");
    expect(stringLiteral('a\\')).toBe("'a\\\\'");
    expect(inlineParams('WHERE id = {id:String}', { id: "\\' OR 1=1" })).toBe("WHERE id = CAST('\\\\\\' OR 1=1' AS String)");
  });

  it('leaves SQL without parameters alone and refuses missing or unsupported values', () => {
    expect(inlineParams('SELECT {id:String}', {})).toBe('SELECT {id:String}');
    expect(() => inlineParams('SELECT {id:String}', { other: 'x' })).toThrow(/id is missing/);
    expect(() => inlineParams('SELECT {n:UInt32}', { n: Number.NaN })).toThrow(/not a finite number/);
    expect(() => inlineParams('SELECT {n:UInt32}', { n: { a: 1 } })).toThrow(/unsupported type/);
  });
});
