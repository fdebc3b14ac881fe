import type { CatalogIndex } from '@wa/shared/catalog';
import type { TemplateRef } from '@wa/shared/contracts/common';
import type { DispatchMessage } from '@wa/shared/contracts/dispatch-job';
import { SERVICE_WINDOW_MS } from '@wa/shared/redis-keys';
import { standingHold } from '@wa/shared/account-standing';
import { liveTemplate } from '../domain/live-template';
import { evaluateCompliance, type ComplianceDecision } from '../domain/compliance';
import { holdsMarketing } from '../domain/quality-gate';
import type { JobOutcomes } from './outcomes';
import type { JobRecords } from './records';
import { PAUSE_DEFER_MS, type HandleJobDeps, type JobContext } from './types';

type PhoneNumber = NonNullable<ReturnType<CatalogIndex['phoneNumber']>>;
type Business = NonNullable<ReturnType<CatalogIndex['business']>>;

/** What the checks found: the job may go to its number's send slot. */
export interface SendPlan {
  number: PhoneNumber;
  business: Business;
  token: string;
  verdict: Extract<ComplianceDecision, { action: 'send' }>;
  /** What is sent: the verdict's message, with campaign media resolved to uploaded ids. */
  message: DispatchMessage;
  /** The job took a place in the portfolio's messaging limit (given back if it is not sent). */
  newRecipient: boolean;
}

/**
 * The checks before a job may wait for its send slot, in order: sender and token, campaign and account
 * state, notBefore, compliance (opt-out, service window, template), quality hold, account standing,
 * messaging limit, pair limit. A job that fails one is refused, deferred or dead-lettered here and `undefined` is returned.
 */
export function createSendGates(deps: HandleJobDeps, records: JobRecords, outcomes: JobOutcomes) {
  const { config } = deps;
  const { event, dlqRecord } = records;
  const { refuse, defer } = outcomes;
  /** The job ended at a check (refused, deferred or dead-lettered): it goes no further. */
  const ended = async (outcome: Promise<void>): Promise<undefined> => {
    await outcome;
    return undefined;
  };

  return async function check(
    ctx: JobContext,
    number: PhoneNumber | undefined,
    person: { optedOut: boolean; lastInboundMs: number | undefined } | undefined,
    nowMs: number,
  ): Promise<SendPlan | undefined> {
    const { job } = ctx;
    if (!number) {
      const detail = `sender ${JSON.stringify(job.sender)} is not in the catalogue`;
      return ended(refuse(ctx, event(ctx, 'failed', { reason: detail.slice(0, 200), errorClass: 'config' }), [dlqRecord(ctx, 'unknown_sender', detail)]));
    }
    const business = deps.catalog.business(number.wabaId)!;
    const token = deps.accessTokens.get(number.wabaId);
    if (!token) {
      const detail = `no access token for business account ${number.wabaId} in WA_ACCESS_TOKENS`;
      return ended(refuse(ctx, event(ctx, 'failed', { reason: detail, errorClass: 'config' }), [dlqRecord(ctx, 'auth_error', detail)]));
    }

    if (job.campaignId) {
      const state = await deps.campaigns.state(job.campaignId);
      if (state === 'cancelled') return ended(refuse(ctx, event(ctx, 'cancelled', { reason: 'campaign cancelled' })));
      // Held in the retry topic, and released there as soon as the campaign is resumed or cancelled.
      if (state === 'paused') return ended(defer(ctx, 'campaign_paused', PAUSE_DEFER_MS, false, 'campaign'));
    }
    if (deps.account.accountPaused(number.wabaId)) return ended(defer(ctx, 'account_paused', PAUSE_DEFER_MS, false));
    if (job.notBefore && Date.parse(job.notBefore) > nowMs) return ended(defer(ctx, 'not_before', Date.parse(job.notBefore) - nowMs, false));

    const verdict = evaluateCompliance(job, {
      nowMs,
      optedOut: person!.optedOut,
      lastInboundMs: person!.lastInboundMs,
      serviceWindowMs: SERVICE_WINDOW_MS,
      optOutPolicy: config.optOutPolicy,
      // Status and category as Meta's webhooks have them now (see domain/live-template).
      template: (ref: TemplateRef) =>
        liveTemplate(
          deps.catalog.template(number.wabaId, ref.name, ref.language),
          deps.account.templateFacts?.(number.wabaId, ref.name, ref.language) ?? { status: deps.account.templateStatus(number.wabaId, ref.name, ref.language) },
          nowMs,
        ),
    });
    if (verdict.action === 'expire') {
      return ended(refuse(ctx, event(ctx, 'expired', { reason: verdict.detail.slice(0, 200) }), [dlqRecord(ctx, 'expired', verdict.detail)]));
    }
    if (verdict.action === 'reject') {
      const reason = `${verdict.reason}: ${verdict.detail}`.slice(0, 200);
      return ended(refuse(ctx, event(ctx, 'rejected', { reason }), [dlqRecord(ctx, verdict.reason, verdict.detail)]));
    }
    ctx.category = verdict.category;
    if (verdict.message.type === 'template') ctx.template = verdict.message.template.name;
    if (verdict.usedFallback) ctx.shape = records.shapeOf(verdict.message, number.wabaId);
    if (holdsMarketing(verdict.category, deps.account.quality(number.id), config.marketingHoldQuality ?? 'never')) {
      return ended(defer(ctx, 'low_quality', PAUSE_DEFER_MS, true));
    }
    // Banned, or this kind of messaging restricted (account_update): held until Meta lifts it.
    const standing = standingHold(deps.account.standing?.(number.wabaId), nowMs, verdict.businessInitiated);
    if (standing !== undefined) return ended(defer(ctx, standing, PAUSE_DEFER_MS, false));

    // Messaging limit (only business-initiated messages, outside a service window, count), then the pair limit: one Redis step.
    const { messaging: admitted, pair } = await deps.limits.admitRecipient({
      portfolioId: business.portfolioId,
      phoneNumberId: number.id,
      waId: job.to,
      ...(verdict.businessInitiated ? { messagingLimit: { limit: deps.account.messagingLimit(number.wabaId) } } : {}),
    });
    if (admitted && !admitted.allowed) {
      const detail = `portfolio ${business.portfolioId} messaged ${admitted.used} of ${admitted.limit} unique recipients in the rolling 24 h`;
      if (job.campaignId && config.campaignOverflowPolicy === 'refuse') {
        const reason = `messaging_limit_refused: ${detail}`.slice(0, 200);
        return ended(refuse(ctx, event(ctx, 'rejected', { reason }), [dlqRecord(ctx, 'messaging_limit_refused', detail)]));
      }
      return ended(defer(ctx, 'messaging_limit', admitted.retryAfterMs, true));
    }
    const newRecipient = admitted?.newRecipient ?? false;
    if (pair && !pair.allowed) return ended(defer(ctx, 'pair_limit', pair.retryAfterMs, false));
    // Before the send slot is taken: the first job of a campaign may wait for its media upload.
    const message =
      job.campaignId && deps.campaignMedia ? await deps.campaignMedia.resolve(job.campaignId, number.id, token, verdict.message) : verdict.message;
    return { number, business, token, verdict, message, newRecipient };
  };
}
