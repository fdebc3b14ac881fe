import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fetchCampaignView, type CampaignEndpoints } from '@wa/cli/campaigns';
import type { CampaignView } from '@wa/cli/campaign-view';
import { callJson } from '@wa/cli/http-client';
import type { RunningStack } from '../stack';
import { generateAudience, toCsv } from './audience';
import { renderProgress, sumViews, type DemoSnapshot } from './progress';
import { startResponder } from './responder';

export interface DemoPlan {
  campaigns: Array<{ id: string; label: string; recipients: number; request: (audiencePath: string) => Record<string, unknown> }>;
  otps: number;
}

/** The demo: two numbers in two portfolios with different tiers, mixed categories, invalid numbers and duplicates. */
export function demoPlan(totalRecipients: number, runId = ''): DemoPlan {
  const otps = Math.min(50, Math.floor(totalRecipients / 100));
  const rest = totalRecipients - otps;
  const sale = Math.round(rest * 0.65);
  const orders = Math.round(rest * 0.1);
  const bistro = rest - sale - orders;
  return {
    otps,
    campaigns: [
      {
        id: `demo-spring-sale${runId}`,
        label: 'Acme spring launch (marketing: image header, quick reply; 250 msg/s number)',
        recipients: sale,
        request: (path) => ({
          sender: { pool: 'acme-main' },
          audience: { path, format: 'csv' },
          template: {
            name: 'spring_launch',
            language: 'en_US',
            category: 'marketing',
            header: { type: 'image', image: { link: 'https://media.example.com/spring-launch.jpg' } },
            bodyParams: ['20%'],
            buttonParams: [{ index: 0, subType: 'quick_reply', text: 'spring-offers' }],
          },
        }),
      },
      {
        id: `demo-orders${runId}`,
        label: 'Acme order updates (utility)',
        recipients: orders,
        request: (path) => ({
          sender: { pool: 'acme-main' },
          audience: { path, format: 'csv' },
          template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1042', 'shipped'] },
        }),
      },
      {
        id: `demo-bistro${runId}`,
        label: 'Bistro table reminders (utility, 80 msg/s number)',
        recipients: bistro,
        request: (path) => ({
          sender: { pool: 'bistro-main' },
          audience: { path, format: 'csv' },
          template: { name: 'table_reminder', language: 'en_US', category: 'utility', bodyParams: ['7 pm', 'Friday'] },
        }),
      },
    ],
  };
}

// JSON over HTTP with readable errors: the CLI's client, so the demo and operators see the same messages.
const getJson = (url: string): Promise<any> => callJson('GET', url);
const postJson = (url: string, body: unknown, token: string): Promise<any> => callJson('POST', url, { token, body });

export interface DemoResult {
  snapshot: DemoSnapshot;
  summary: DemoSummary;
}

/**
 * Submits the demo broadcasts and OTPs through the ingest API, draws progress until every job has
 * its outcome and every accepted message a final status (or the pipeline stays still for
 * `idleTimeoutMs`), then reads the summary. Every figure is scoped to this run: its campaigns, and
 * the OTPs, which carry a campaign id of their own so this run can count them.
 */
export async function runDemo(
  stack: RunningStack,
  options: { recipients: number; dataDir: string; draw: (lines: string[]) => void; idleTimeoutMs?: number; signal?: AbortSignal },
): Promise<DemoResult> {
  const started = Date.now();
  const runId = started.toString(36);
  // Campaign ids are per run: analytics keeps history, and each demo should show its own funnel.
  const plan = demoPlan(options.recipients, `-${runId}`);
  const otpCampaign = `demo-otps-${runId}`;
  const repliesCampaign = `demo-replies-${runId}`;
  const responder = await startResponder(stack, repliesCampaign);
  // The replies to button taps count once the first one was requested (before, the campaign does not exist).
  const sentIds = [...plan.campaigns.map((c) => c.id), ...(plan.otps > 0 ? [otpCampaign] : [])];
  const campaignIds = () => [...sentIds, ...(responder.state.sent > 0 ? [repliesCampaign] : [])];

  for (const [i, campaign] of plan.campaigns.entries()) {
    const audience = generateAudience({ size: campaign.recipients, seed: 1000 + i, invalidFraction: 0.01, duplicateFraction: 0.01 });
    const path = join(options.dataDir, `demo-audience-${campaign.id}.csv`);
    writeFileSync(path, toCsv(audience.rows));
    await postJson(
      `${stack.urls.ingest}/v1/notifications`,
      { v: 1, idempotencyKey: campaign.id, campaignId: campaign.id, ...campaign.request(path) },
      stack.secrets.ingestToken,
    );
  }
  const otpAudience = generateAudience({ size: plan.otps, seed: 99, invalidFraction: 0, duplicateFraction: 0 });
  for (const [i, row] of otpAudience.rows.entries()) {
    await postJson(
      `${stack.urls.ingest}/v1/notifications`,
      {
        v: 1,
        idempotencyKey: `otp-${runId}-${i}`,
        campaignId: otpCampaign,
        sender: { pool: 'acme-main' },
        to: row.phone,
        template: {
          name: 'otp_code',
          language: 'en_US',
          category: 'authentication',
          bodyParams: [String(100000 + i)],
          buttonParams: [{ index: 0, subType: 'url', text: String(100000 + i) }],
        },
        expiresAt: new Date(Date.now() + 5 * 60_000).toISOString(),
      },
      stack.secrets.ingestToken,
    );
  }

  const senders = stack.catalog.phoneNumbers.map((n) => ({ id: n.id, label: `+${n.displayNumber}`, limit: n.throughputMps }));
  const endpoints = { dispatcherUrl: stack.urls.dispatcher, adminToken: stack.secrets.adminToken, analyticsUrl: stack.urls.analytics };
  const scope = `this run: campaigns ${plan.campaigns.map((c) => c.id.replace(`-${runId}`, '')).join(', ')}, ${plan.otps} OTPs and the replies to button taps (ids end in -${runId})`;
  let previous: { at: number; accepted: Map<string, number> } | undefined;
  let lastChange = Date.now();
  let lastFingerprint = '';
  let snapshot: DemoSnapshot | undefined;
  const idleTimeoutMs = options.idleTimeoutMs ?? 20_000;

  for (;;) {
    if (options.signal?.aborted) break;
    const [sim, targets, views] = await Promise.all([getJson(`${stack.urls.sim}/_sim/stats`), readTargets(stack), readViews(endpoints, campaignIds())]);
    const now = Date.now();
    const accepted = new Map<string, number>(senders.map((s) => [s.id, Number(sim.phoneNumbers?.[s.id]?.accepted ?? 0)]));
    const rates = senders.map((s) => {
      const before = previous?.accepted.get(s.id) ?? 0;
      const seconds = previous ? (now - previous.at) / 1000 : 1;
      const paced = targets.get(s.id);
      return { ...s, rate: previous ? (accepted.get(s.id)! - before) / seconds : 0, target: paced?.target ?? null, limit: paced?.limit ?? s.limit };
    });
    previous = { at: now, accepted };
    snapshot = { elapsedMs: now - started, scope, ...sumViews(views), senders: rates, throttled: Number(sim.rejectedByCode?.['130429'] ?? 0) };
    options.draw(renderProgress(snapshot));
    const fingerprint = JSON.stringify([snapshot.pending, snapshot.acceptedByMeta, snapshot.delivered, snapshot.failedAfterAcceptance, sim.statusesPending]);
    if (fingerprint !== lastFingerprint) {
      lastFingerprint = fingerprint;
      lastChange = now;
    }
    const settled =
      snapshot.expanded &&
      snapshot.pending === 0 &&
      Number(sim.statusesPending ?? 0) === 0 &&
      Number(sim.webhooks?.pending ?? 0) === 0 &&
      snapshot.awaitingStatus === 0 &&
      responder.state.inFlight === 0;
    if (settled && now - lastChange > 3_000) break;
    if (now - lastChange > idleTimeoutMs) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  await responder.stop();
  const summary = await readSummary(stack, campaignIds(), await readViews(endpoints, campaignIds()));
  return { snapshot: snapshot!, summary };
}

/** Each campaign as the CLI shows it (`wa-broadcast status`), or null while ingest has not registered it yet. */
async function readViews(endpoints: CampaignEndpoints, ids: string[]): Promise<Array<CampaignView | null>> {
  return Promise.all(ids.map((id) => fetchCampaignView(endpoints, id).catch(() => null)));
}

/** The dispatcher's paced target and the number's current limit (msg/s; a tier upgrade changes it). */
async function readTargets(stack: RunningStack): Promise<Map<string, { target: number; limit: number }>> {
  const r = (await callJson('GET', `${stack.urls.dispatcher}/v1/senders`, { token: stack.secrets.adminToken }).catch(() => null)) as {
    senders?: Array<{ phoneNumberId: string; targetMps: number; rateLimitMps: number }>;
  } | null;
  return new Map((r?.senders ?? []).map((s) => [s.phoneNumberId, { target: s.targetMps, limit: s.rateLimitMps }]));
}

async function readSummary(stack: RunningStack, campaignIds: string[], views: Array<CampaignView | null>): Promise<DemoSummary> {
  const safe = <T>(p: Promise<T>) => p.catch((e: Error) => ({ error: e.message }) as unknown as T);
  const scoped = `campaign=${encodeURIComponent(campaignIds.join(','))}`;
  const [byCategory, byCountry, sim] = await Promise.all([
    safe(getJson(`${stack.urls.analytics}/v1/stats/costs?groupBy=category&${scoped}`)),
    safe(getJson(`${stack.urls.analytics}/v1/stats/costs?groupBy=country&${scoped}`)),
    getJson(`${stack.urls.sim}/_sim/stats`),
  ]);
  const reasons = {
    invalid: new Map<string, number>(),
    refusedByUs: new Map<string, number>(),
    refusedByMeta: new Map<string, number>(),
    failedAfterAcceptance: new Map<string, number>(),
  };
  for (const v of views) {
    for (const f of v?.analytics?.failuresByReason ?? []) {
      const which =
        f.stage === 'dlq:ingest'
          ? reasons.invalid
          : f.stage === 'webhook'
            ? reasons.failedAfterAcceptance
            : f.outcome === 'failed' && f.errorCode > 0
              ? reasons.refusedByMeta
              : f.stage === 'dispatch'
                ? reasons.refusedByUs
                : undefined;
      const key = `${f.reason}${f.errorCode ? ` (${f.errorCode})` : ''}`;
      which?.set(key, (which.get(key) ?? 0) + f.count);
    }
  }
  const costRows = (r: any) =>
    Array.isArray(r?.rows)
      ? r.rows.map((x: any) => ({
          key: String(x.key),
          units: Number(x.billableUnits ?? 0),
          unpriced: Number(x.unpricedUnits ?? 0),
          usd: Number(x.spendUsd ?? 0),
        }))
      : [];
  const sorted = (m: Map<string, number>) => [...m].sort((a, b) => b[1] - a[1]);
  return {
    reasons: {
      invalid: sorted(reasons.invalid),
      refusedByUs: sorted(reasons.refusedByUs),
      refusedByMeta: sorted(reasons.refusedByMeta),
      failedAfterAcceptance: sorted(reasons.failedAfterAcceptance),
    },
    costByCategory: costRows(byCategory),
    costByCountry: costRows(byCountry),
    simulator: {
      accepted: Number(sim.accepted),
      duplicateSends: Number(sim.duplicateSends?.count ?? 0),
      rejectedByCode: sim.rejectedByCode ?? {},
      failedByCode: sim.failedByCode ?? {},
    },
  };
}

export interface DemoSummary {
  reasons: Record<'invalid' | 'refusedByUs' | 'refusedByMeta' | 'failedAfterAcceptance', Array<[string, number]>>;
  costByCategory: Array<{ key: string; units: number; unpriced: number; usd: number }>;
  costByCountry: Array<{ key: string; units: number; unpriced: number; usd: number }>;
  simulator: { accepted: number; duplicateSends: number; rejectedByCode: Record<string, number>; failedByCode: Record<string, number> };
}
