import { CATEGORY, PRICING_TYPE, type Category } from './message-store';

export type OriginType = Category | 'referral_conversion';
const ORIGINS: readonly OriginType[] = [...CATEGORY, 'referral_conversion'];

/**
 * Conversation bookkeeping for the `conversation` object: under CBP a 24 h conversation per
 * (WABA, person, category) opened by the first message; free-form messages ride on any open
 * conversation. Columnar like the message store.
 */
export class ConversationBook {
  private readonly open = new Map<string, number>();
  private expires: number[] = [];
  private origins: number[] = [];
  private readonly tag: string;

  constructor(
    private readonly conversationMs: number,
    tag: string,
  ) {
    this.tag = tag.padEnd(8, '0').slice(0, 8).toLowerCase();
  }

  private live(key: string, now: number): number {
    const c = this.open.get(key);
    if (c === undefined) return -1;
    if (this.expires[c]! > now) return c;
    this.open.delete(key);
    return -1;
  }

  private create(key: string, origin: OriginType, now: number): number {
    const c = this.expires.length;
    this.expires.push(now + this.conversationMs);
    this.origins.push(ORIGINS.indexOf(origin));
    this.open.set(key, c);
    return c;
  }

  /** The conversation a message belongs to, opening one when needed. */
  resolve(wabaIdx: number, recipient: string, category: Category, referral: boolean, now: number): number {
    const base = `${wabaIdx}:${recipient}:`;
    if (referral) {
      const r = this.live(base + 'referral_conversion', now);
      return r >= 0 ? r : this.create(base + 'referral_conversion', 'referral_conversion', now);
    }
    if (category === 'service') {
      for (const o of ORIGINS) {
        const c = this.live(base + o, now);
        if (c >= 0) return c;
      }
      return this.create(base + 'service', 'service', now);
    }
    const c = this.live(base + category, now);
    return c >= 0 ? c : this.create(base + category, category, now);
  }

  id(c: number): string {
    return `${this.tag}${c.toString(16).padStart(24, '0')}`;
  }
  origin(c: number): OriginType {
    return ORIGINS[this.origins[c]!]!;
  }
  expiresAt(c: number): number {
    return this.expires[c]!;
  }
}

export { PRICING_TYPE };
