/**
 * Campaign admission against the portfolio's messaging limit (unique business-initiated
 * recipients per rolling 24 h). Counting the campaign's *new* recipients before it starts lets us
 * hold or refuse the overflow up front instead of hitting the wall mid-campaign.
 */

export interface AdmissionInput {
  /** Recipients of the campaign not messaged by the portfolio in the current window. */
  newRecipients: number;
  /** Recipients already messaged in the window (they do not count again). */
  knownRecipients: number;
  /** The portfolio's limit; null = unlimited. */
  limit: number | null;
  /** Unique recipients already used in the current window. */
  used: number;
  policy: 'spread' | 'refuse';
}

export interface AdmissionDecision {
  admitted: boolean;
  /** New recipients that fit in today's remaining budget. */
  sendNow: number;
  /** New recipients held for later windows (policy "spread"). */
  held: number;
  /** New recipients refused (policy "refuse"). */
  refused: number;
  remainingBudget: number | null;
  /** Rolling windows needed to send everything at the current limit (1 = fits now). */
  windowsNeeded: number;
}

export function admitCampaign(input: AdmissionInput): AdmissionDecision {
  if (input.limit === null) {
    return { admitted: true, sendNow: input.newRecipients, held: 0, refused: 0, remainingBudget: null, windowsNeeded: 1 };
  }
  const remaining = Math.max(0, input.limit - input.used);
  const fits = Math.min(remaining, input.newRecipients);
  const overflow = input.newRecipients - fits;
  const windowsNeeded = overflow === 0 ? 1 : 1 + Math.ceil(overflow / Math.max(1, input.limit));
  if (input.policy === 'refuse' && overflow > 0) {
    return { admitted: false, sendNow: 0, held: 0, refused: input.newRecipients, remainingBudget: remaining, windowsNeeded };
  }
  return { admitted: true, sendNow: fits, held: overflow, refused: 0, remainingBudget: remaining, windowsNeeded };
}
