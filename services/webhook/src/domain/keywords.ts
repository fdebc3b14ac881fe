export type KeywordIntent = 'opt_out' | 'opt_in';

/** Upper-case, accents stripped, surrounding punctuation and whitespace removed: "  Arrêt ! " → "ARRET". */
export function normaliseKeyword(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toUpperCase()
    .replace(/^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu, '')
    .replace(/\s+/g, ' ');
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
      if (text === undefined) return undefined;
      const word = normaliseKeyword(text);
      if (optOut.has(word)) return 'opt_out';
      if (optIn.has(word)) return 'opt_in';
      return undefined;
    },
  };
}
export type KeywordMatcher = ReturnType<typeof createKeywordMatcher>;
