/**
 * ClickHouse `TabSeparated` encoding of rows. It is the cheapest text format both to build here and
 * for the engine to parse (no quoting or key names, unlike JSON), and the same bytes go to chdb and
 * to a server over HTTP. Escapes follow ClickHouse's TSV rules; NULL is `\N`.
 */
const NEEDS_ESCAPE = /[\\\t\n\r\0\b\f]/;
const ESCAPABLE = /[\\\t\n\r\0\b\f]/g;
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r', '\0': '\\0', '\b': '\\b', '\f': '\\f' };

export function tsvValue(v: unknown): string {
  if (typeof v === 'string') return NEEDS_ESCAPE.test(v) ? v.replace(ESCAPABLE, (c) => ESCAPES[c]!) : v;
  if (typeof v === 'number') return String(v);
  if (v === null || v === undefined) return '\\N';
  if (typeof v === 'boolean') return v ? '1' : '0';
  return tsvValue(JSON.stringify(v));
}

type LineEncoder = (row: Record<string, unknown>) => string;
const encoders = new Map<string, LineEncoder>();

/**
 * An encoder of one row into one TSV line for a fixed column list. It is generated once per column
 * list so that every column is a named property load with the common cases (a clean string, a
 * number) inline: a generic loop over `row[column]` cost three times as much per row, and encoding
 * is a large share of the consumer's CPU.
 */
function lineEncoder(columns: readonly string[]): LineEncoder {
  const key = columns.join(',');
  let encode = encoders.get(key);
  if (!encode) {
    const cell = (c: string) => `(typeof (x = row[${JSON.stringify(c)}]) === 'string' ? (clean.test(x) ? slow(x) : x) : typeof x === 'number' ? x : slow(x))`;
    const body = `return function (row) { let x; return [${columns.map(cell).join(', ')}].join('\\t'); };`;
    // eslint-disable-next-line @typescript-eslint/no-implied-eval -- column names come from our own row builders, quoted by JSON.stringify
    encode = new Function('clean', 'slow', body)(NEEDS_ESCAPE, tsvValue) as LineEncoder;
    encoders.set(key, encode);
  }
  return encode;
}

/** One table's rows as TSV: the column order is the first row's keys; a key a later row lacks is NULL. */
export function encodeTsv(rows: readonly Record<string, unknown>[]): { columns: string[]; body: string } {
  const columns = Object.keys(rows[0] ?? {});
  const encode = lineEncoder(columns);
  const lines = new Array<string>(rows.length + 1);
  for (let r = 0; r < rows.length; r++) lines[r] = encode(rows[r]!);
  lines[rows.length] = '';
  return { columns, body: lines.join('\n') };
}
