import type { CampaignSummary } from '@wa/shared/campaigns';
import { renderCampaign, type CampaignAnalytics, type CampaignView } from './campaign-view';
import { errorMessage, requestJson } from './http-client';

export interface CampaignEndpoints {
  dispatcherUrl: string;
  adminToken: string | undefined;
  analyticsUrl: string;
}

/** A campaign the dispatcher has no record of (an unknown id, or one older than the record's 30 days). */
export class CampaignNotFound extends Error {}

/** The dispatcher's record of the campaign (state, audience, outcomes) and analytics' funnel and cost. */
export async function fetchCampaignView(e: CampaignEndpoints, id: string): Promise<CampaignView> {
  const path = `/v1/campaigns/${encodeURIComponent(id)}`;
  const [record, analytics] = await Promise.all([
    requestJson('GET', `${e.dispatcherUrl}${path}`, { token: e.adminToken }),
    // Analytics adds the funnel and cost; the campaign's state and accounting do not wait on it.
    requestJson('GET', `${e.analyticsUrl}${path}`, { timeoutMs: 5_000 }).catch(() => null),
  ]);
  if (record.status === 404) throw new CampaignNotFound(errorMessage(record.body));
  if (record.status !== 200) throw new Error(`the dispatcher answered ${record.status}: ${errorMessage(record.body)}`);
  return { campaign: record.body as CampaignSummary, analytics: analytics?.status === 200 ? (analytics.body as CampaignAnalytics) : null };
}

/** pause / resume / cancel: the dispatcher's answer (the new state, what it does, the record after). */
export async function setCampaignState(
  e: CampaignEndpoints,
  id: string,
  action: 'pause' | 'resume' | 'cancel',
): Promise<{ id: string; state: string; effect: string; campaign: CampaignSummary | null }> {
  const r = await requestJson('POST', `${e.dispatcherUrl}/v1/campaigns/${encodeURIComponent(id)}/${action}`, { token: e.adminToken, body: {} });
  if (r.status === 404) throw new CampaignNotFound(errorMessage(r.body));
  if (r.status !== 200) throw new Error(`${action} ${id}: the dispatcher answered ${r.status}: ${errorMessage(r.body)}`);
  return r.body as { id: string; state: string; effect: string; campaign: CampaignSummary | null };
}

/** Redraws the campaign every `intervalMs` until it is done or cancelled (or the signal aborts). */
export async function watchCampaign(
  e: CampaignEndpoints,
  id: string,
  options: { intervalMs: number; write: (text: string) => void; interactive: boolean; signal?: AbortSignal },
): Promise<CampaignView> {
  let drawn = 0;
  for (;;) {
    const view = await fetchCampaignView(e, id);
    const lines = [...renderCampaign(view), '', `  (refreshing every ${options.intervalMs / 1000} s; Ctrl-C to stop watching — the campaign goes on)`];
    if (options.interactive && drawn > 0) options.write(`\x1b[${drawn}A\x1b[0J`);
    options.write(`${lines.join('\n')}\n`);
    drawn = lines.length;
    if (view.campaign.state === 'done' || (view.campaign.state === 'cancelled' && view.campaign.pending === 0) || options.signal?.aborted) return view;
    await new Promise((r) => setTimeout(r, options.intervalMs));
  }
}
