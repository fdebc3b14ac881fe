/**
 * Serialises like Meta's webhook sender: non-ASCII escaped as \uXXXX (surrogate pairs as two
 * escapes) and, optionally, `/` as `\/`. Receivers must verify signatures over these exact
 * bytes; re-serialising with JSON.stringify would produce different bytes.
 */
export function metaStringify(value: unknown, escapeSlashes: boolean): string {
  let s = JSON.stringify(value);
  // eslint-disable-next-line no-control-regex
  if (/[^\x00-\x7e]/.test(s)) {
    s = s.replace(/[\u007f-\uffff]/g, (c) => '\\u' + c.charCodeAt(0).toString(16).padStart(4, '0'));
  }
  if (escapeSlashes && s.includes('/')) s = s.replace(/\//g, '\\/');
  return s;
}
