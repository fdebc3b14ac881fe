export type KeywordIntent = 'opt_out' | 'opt_in';

const EDGE = /^[\s\p{P}\p{S}]$/u;

/** The index after the last character that is not whitespace, punctuation or a symbol (a scan from the end: linear). */
function trimmedEnd(s: string): number {
  let end = s.length;
  while (end > 0) {
    const width = end >= 2 && /[\uDC00-\uDFFF]/.test(s[end - 1]!) && /[\uD800-\uDBFF]/.test(s[end - 2]!) ? 2 : 1;
    if (!EDGE.test(s.slice(end - width, end))) break;
    end -= width;
  }
  return end;
}

/** Longest message that can still be a keyword; longer text is not matched (and not normalised at all). */
export const MAX_KEYWORD_MESSAGE_CHARS = 256;

/** Upper-case, accents stripped, surrounding punctuation and whitespace removed: "  Arrêt ! " → "ARRET". */
export function normaliseKeyword(text: string): string {
  // Not `[…]+$`: a regex anchored at the end retries from every position, quadratic in the length (64 KB took seconds).
  const folded = text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toUpperCase()
    .replace(/^[\s\p{P}\p{S}]+/u, '');
  return folded.slice(0, trimmedEnd(folded)).replace(/\s+/g, ' ');
}

/**
 * Opt-out/opt-in keywords match the whole message only: "STOP" or "stop." opts out, "please don't
 * stop my orders" does not. Meta's guidance and carrier practice both treat the bare keyword as the
 * request; matching substrings would opt people out of messages they asked for.
 */
export function createKeywordMatcher(options: { optOut: readonly string[]; optIn: readonly string[] }) {
  const optOut = new Set(options.optOut.map(normaliseKeyword).filter(Boolean));
  const optIn = new Set(options.optIn.map(normaliseKeyword).filter(Boolean));
  for (const word of optIn) {
    if (optOut.has(word)) throw new Error(`keyword "${word}" is configured both as opt-out and opt-in`);
  }
  return {
    classify(text: string | undefined): KeywordIntent | undefined {
      if (text === undefined || text.length > MAX_KEYWORD_MESSAGE_CHARS) return undefined;
      const word = normaliseKeyword(text);
      if (optOut.has(word)) return 'opt_out';
      if (optIn.has(word)) return 'opt_in';
      return undefined;
    },
  };
}
export type KeywordMatcher = ReturnType<typeof createKeywordMatcher>;
