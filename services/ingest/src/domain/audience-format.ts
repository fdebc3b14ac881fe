import type { RawRecipient } from './expand';

export type LineResult = { ok: true; recipient: RawRecipient } | { ok: false; detail: string } | { ok: 'skip' };

/** The dispatch contract's bounds on template parameters: at most 100, each at most 1024 characters. */
const strings = (v: unknown): v is string[] => Array.isArray(v) && v.length <= 100 && v.every((x) => typeof x === 'string' && x.length <= 1024);

/** NDJSON: each line is `"+4915…"` or `{"to": "+4915…", "bodyParams": [...], "headerParams": [...]}`. */
export function parseNdjsonLine(line: string, index: number): LineResult {
  if (line.trim().length === 0) return { ok: 'skip' };
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return { ok: false, detail: 'audience line is not valid JSON' };
  }
  if (typeof value === 'string' || typeof value === 'number') return { ok: true, recipient: { index, to: String(value) } };
  if (typeof value !== 'object' || value === null) return { ok: false, detail: 'audience line must be a string or an object with `to`' };
  const v = value as Record<string, unknown>;
  const to = v.to ?? v.phone ?? v.waId;
  if (typeof to !== 'string' && typeof to !== 'number') return { ok: false, detail: 'audience line has no `to`' };
  if (v.bodyParams !== undefined && !strings(v.bodyParams)) return { ok: false, detail: '`bodyParams` must be an array of at most 100 strings of at most 1024 characters' };
  if (v.headerParams !== undefined && !strings(v.headerParams)) return { ok: false, detail: '`headerParams` must be an array of at most 100 strings of at most 1024 characters' };
  const recipient: RawRecipient = { index, to: String(to) };
  if (v.bodyParams !== undefined) recipient.bodyParams = v.bodyParams as string[];
  if (v.headerParams !== undefined) recipient.headerParams = v.headerParams as string[];
  return { ok: true, recipient };
}

/** Splits one CSV record (RFC 4180 quoting, no embedded newlines). */
export function splitCsv(line: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cur += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cur += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

export interface CsvLayout {
  to: number;
  body: number[];
  header: number[];
}

/**
 * The header row names the columns: `to` (or `phone`, `wa_id`), then optional `body.1`, `body.2`, …
 * and `header.1` for per-recipient template parameters.
 */
export function parseCsvHeader(line: string): CsvLayout | null {
  const cols = splitCsv(line.replace(/^\uFEFF/, '')).map((c) => c.trim().toLowerCase());
  const to = cols.findIndex((c) => c === 'to' || c === 'phone' || c === 'wa_id');
  if (to < 0) return null;
  const numbered = (prefix: string) =>
    cols
      .map((c, i) => ({ c, i }))
      .filter(({ c }) => c.startsWith(prefix))
      .sort((a, b) => Number(a.c.slice(prefix.length)) - Number(b.c.slice(prefix.length)))
      .map(({ i }) => i);
  return { to, body: numbered('body.'), header: numbered('header.') };
}

export function parseCsvLine(line: string, layout: CsvLayout, index: number): LineResult {
  if (line.trim().length === 0) return { ok: 'skip' };
  const cells = splitCsv(line);
  const to = cells[layout.to]?.trim();
  if (!to) return { ok: false, detail: 'audience row has no `to` value' };
  if (layout.body.length > 100 || cells.some((c) => c.length > 1024)) return { ok: false, detail: 'audience row has a parameter over 1024 characters' };
  const recipient: RawRecipient = { index, to };
  if (layout.body.length > 0) recipient.bodyParams = layout.body.map((i) => cells[i] ?? '');
  if (layout.header.length > 0) recipient.headerParams = layout.header.map((i) => cells[i] ?? '');
  return { ok: true, recipient };
}
