import { recipientEntry } from '@wa/shared/contracts/notification-request';
import { formatIssues } from '@wa/shared/decode';
import type { RawRecipient } from './expand';

function pick(v: Record<string, unknown>, keys: string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of keys) if (v[k] !== undefined) out[k] = v[k];
  return out;
}

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
  if (v.bodyParams !== undefined && !strings(v.bodyParams))
    return { ok: false, detail: '`bodyParams` must be an array of at most 100 strings of at most 1024 characters' };
  if (v.headerParams !== undefined && !strings(v.headerParams))
    return { ok: false, detail: '`headerParams` must be an array of at most 100 strings of at most 1024 characters' };
  const recipient: RawRecipient = { index, to: String(to) };
  if (v.bodyParams !== undefined) recipient.bodyParams = v.bodyParams as string[];
  if (v.headerParams !== undefined) recipient.headerParams = v.headerParams as string[];
  // Rich values (named parameters, a media header, buttons) have the request's own shapes.
  const rich = recipientEntry.safeParse({ to: String(to), ...pick(v, ['namedParams', 'header', 'buttonParams']) });
  if (!rich.success) return { ok: false, detail: `audience line: ${formatIssues(rich.error)}` };
  if (typeof rich.data !== 'string') {
    if (rich.data.namedParams) recipient.namedParams = rich.data.namedParams;
    if (rich.data.header) recipient.header = rich.data.header;
    if (rich.data.buttonParams) recipient.buttonParams = rich.data.buttonParams;
  }
  return { ok: true, recipient };
}

export interface CsvLayout {
  to: number;
  body: number[];
  header: number[];
  /** `body.<name>` columns: named parameters. */
  named: { name: string; col: number }[];
  /** `button.<index>` columns: that button's value (URL suffix, payload or code). */
  buttons: { index: number; col: number }[];
  /** `header.image|video|document` column: the recipient's media header (a link, or a media id). */
  media?: { type: 'image' | 'video' | 'document'; col: number };
}

/**
 * The header row names the columns: `to` (or `phone`, `wa_id`), then optional `body.1`, `body.2`, …
 * and `header.1` for per-recipient template parameters. Cells come unquoted from the CSV reader.
 */
export function parseCsvHeader(header: readonly string[]): CsvLayout | null {
  const cols = header.map((c) => c.trim().toLowerCase());
  const to = cols.findIndex((c) => c === 'to' || c === 'phone' || c === 'wa_id');
  if (to < 0) return null;
  const numbered = (prefix: string) =>
    cols
      .map((c, i) => ({ c, i }))
      .filter(({ c }) => c.startsWith(prefix))
      .sort((a, b) => Number(a.c.slice(prefix.length)) - Number(b.c.slice(prefix.length)))
      .map(({ i }) => i);
  const isNumbered = (c: string, prefix: string) => c.startsWith(prefix) && /^\d+$/.test(c.slice(prefix.length));
  const layout: CsvLayout = {
    to,
    body: numbered('body.').filter((i) => isNumbered(cols[i]!, 'body.')),
    header: numbered('header.').filter((i) => isNumbered(cols[i]!, 'header.')),
    named: cols.flatMap((c, col) => (c.startsWith('body.') && !isNumbered(c, 'body.') ? [{ name: c.slice(5), col }] : [])),
    buttons: cols.flatMap((c, col) => (isNumbered(c, 'button.') ? [{ index: Number(c.slice(7)), col }] : [])),
  };
  const mediaCol = cols.findIndex((c) => c === 'header.image' || c === 'header.video' || c === 'header.document');
  if (mediaCol >= 0) layout.media = { type: cols[mediaCol]!.slice(7) as 'image' | 'video' | 'document', col: mediaCol };
  return layout;
}

/** One CSV record (its cells, unquoted); a blank line is skipped. */
export function parseCsvRecord(cells: readonly string[], layout: CsvLayout, index: number): LineResult {
  if (cells.length <= 1 && (cells[0] ?? '').trim().length === 0) return { ok: 'skip' };
  const to = cells[layout.to]?.trim();
  if (!to) return { ok: false, detail: 'audience row has no `to` value' };
  if (layout.body.length > 100 || cells.some((c) => c.length > 1024)) return { ok: false, detail: 'audience row has a parameter over 1024 characters' };
  const recipient: RawRecipient = { index, to };
  if (layout.body.length > 0) recipient.bodyParams = layout.body.map((i) => cells[i] ?? '');
  if (layout.header.length > 0) recipient.headerParams = layout.header.map((i) => cells[i] ?? '');
  if (layout.named.length > 0) recipient.namedParams = Object.fromEntries(layout.named.map(({ name, col }) => [name, cells[col] ?? '']));
  if (layout.buttons.length > 0) recipient.buttonValues = Object.fromEntries(layout.buttons.map(({ index, col }) => [index, cells[col] ?? '']));
  if (layout.media) {
    const v = (cells[layout.media.col] ?? '').trim();
    if (!/^\d{1,32}$/.test(v) && !/^https?:\/\/\S+$/.test(v))
      return { ok: false, detail: `audience row: header.${layout.media.type} must be an http(s) link or a media id` };
    const ref = /^\d+$/.test(v) ? { id: v } : { link: v };
    recipient.header =
      layout.media.type === 'image'
        ? { type: 'image', image: ref }
        : layout.media.type === 'video'
          ? { type: 'video', video: ref }
          : { type: 'document', document: ref };
  }
  return { ok: true, recipient };
}
