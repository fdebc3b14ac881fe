import { hashUnit } from './rng';
import type { Scenario } from './scenario';

export type Reachability = 'valid' | 'not_on_whatsapp' | 'opted_out' | 'experiment';

export interface Person {
  reachability: Reachability;
  /** Replies to what they receive (opens a service window). */
  replies: boolean;
  /** Answers STOP to marketing. */
  saysStop: boolean;
  /** Reads what is delivered (read receipts on). */
  reads: boolean;
}

/**
 * Who a phone number belongs to, as a pure function of (seed, digits): the same person behaves
 * the same way across runs and restarts, and nothing is stored per person.
 */
export function createPopulation(p: Scenario['population'], seed: number): (digits: string) => Person {
  const b1 = p.notOnWhatsAppFraction;
  const b2 = b1 + p.optedOutMarketingFraction;
  const b3 = b2 + p.experimentFraction;
  return (digits) => {
    const o = p.overrides[digits];
    const u = hashUnit(seed, 1, digits);
    const person: Person = {
      reachability: u < b1 ? 'not_on_whatsapp' : u < b2 ? 'opted_out' : u < b3 ? 'experiment' : 'valid',
      replies: hashUnit(seed, 2, digits) < p.replyFraction,
      saysStop: hashUnit(seed, 3, digits) < p.stopFraction,
      reads: hashUnit(seed, 4, digits) < p.readFraction,
    };
    if (o === undefined) return person;
    if (o === 'replies') return { reachability: 'valid', replies: true, saysStop: false, reads: true };
    if (o === 'says_stop') return { reachability: 'valid', replies: true, saysStop: true, reads: true };
    return { ...person, reachability: o, ...(o === 'valid' ? { replies: false, saysStop: false } : {}) };
  };
}
