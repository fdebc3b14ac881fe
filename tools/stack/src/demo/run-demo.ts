import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { callJson } from '@wa/cli/http-client';
import type { RunningStack } from '../stack';
import { generateAudience, toCsv } from './audience';
import { renderProgress, type ProgressSnapshot } from './progress';

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
        label: 'Acme spring sale (marketing, 250 msg/s number)',
        recipients: sale,
        request: (path) => ({
          sender: { pool: 'acme-main' },
          audience: { path, format: 'csv' },
          template: { name: 'spring_sale', language: 'en_US', category: 'marketing', headerParams: ['Spring'], bodyParams: ['20%'] },
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
  requested: number;
  snapshot: ProgressSnapshot;
  summary: DemoSummary;
}

/**
 * Submits the demo broadcasts through the ingest API, draws progress until every accepted message
 * reached a final status (or the pipeline stays still for `idleTimeoutMs`), then prints a summary.
 */
export async function runDemo(stack: RunningStack, options: { recipients: number; dataDir: string; draw: (lines: string[]) => void; idleTimeoutMs?: number; signal?: AbortSignal }): Promise<DemoResult> {
  const started = Date.now();
  const runId = started.toString(36);
  // Campaign ids are per run: analytics keeps history, and each demo should show its own funnel.
  const plan = demoPlan(options.recipients, `-${runId}`);
  let requested = 0;

  for (const [i, campaign] of plan.campaigns.entries()) {
    const audience = generateAudience({ size: campaign.recipients, seed: 1000 + i, invalidFraction: 0.01, duplicateFraction: 0.01 });
    const path = join(options.dataDir, `demo-audience-${campaign.id}.csv`);
    writeFileSync(path, toCsv(audience.rows));
    await postJson(`${stack.urls.ingest}/v1/notifications`, { v: 1, idempotencyKey: campaign.id, campaignId: campaign.id, ...campaign.request(path) }, stack.secrets.ingestToken);
    requested += audience.rows.length;
  }
  const otpAudience = generateAudience({ size: plan.otps, seed: 99, invalidFraction: 0, duplicateFraction: 0 });
  for (const [i, row] of otpAudience.rows.entries()) {
    await postJson(
      `${stack.urls.ingest}/v1/notifications`,
      {
        v: 1,
        idempotencyKey: `otp-${runId}-${i}`,
        sender: { pool: 'acme-main' },
        to: row.phone,
        template: { name: 'otp_code', language: 'en_US', category: 'authentication', bodyParams: [String(100000 + i)], buttonParams: [{ index: 0, subType: 'url', text: String(100000 + i) }] },
        expiresAt: new Date(Date.now() + 5 * 60_000).toISOString(),
      },
      stack.secrets.ingestToken,
    );
    requested += 1;
  }

  const senders = stack.catalog.phoneNumbers.map((n) => ({ id: n.id, label: `+${n.displayNumber}`, limit: n.throughputMps }));
  let previous: { at: number; accepted: Map<string, number> } | undefined;
  let lastChange = Date.now();
  let lastTotal = -1;
  let snapshot: ProgressSnapshot | undefined;
  const idleTimeoutMs = options.idleTimeoutMs ?? 20_000;

  for (;;) {
    if (options.signal?.aborted) break;
    const sim = await getJson(`${stack.urls.sim}/_sim/stats`);
    const now = Date.now();
    const accepted = new Map<string, number>(senders.map((s) => [s.id, Number(sim.phoneNumbers?.[s.id]?.accepted ?? 0)]));
    const rates = senders.map((s) => {
      const before = previous?.accepted.get(s.id) ?? 0;
      const seconds = previous ? (now - previous.at) / 1000 : 1;
      return { ...s, rate: previous ? (accepted.get(s.id)! - before) / seconds : 0 };
    });
    previous = { at: now, accepted };
    const funnel = await readFunnel(stack, plan.campaigns.map((c) => c.id));
    snapshot = { elapsedMs: now - started, requested, ...funnel, senders: rates };
    options.draw(renderProgress(snapshot));
    const total = snapshot.sent + snapshot.delivered + snapshot.read + snapshot.failed + snapshot.rejected + Number(sim.statusesPending ?? 0) + Number(sim.accepted ?? 0);
    if (total !== lastTotal) {
      lastTotal = total;
      lastChange = now;
    }
    const settled = Number(sim.statusesPending ?? 0) === 0 && Number(sim.webhooks?.pending ?? 0) === 0;
    if (settled && now - lastChange > 5_000) break;
    if (now - lastChange > idleTimeoutMs) break;
    await new Promise((r) => setTimeout(r, 1_000));
  }
  const summary = await readSummary(stack, plan.campaigns.map((c) => c.id));
  return { requested, snapshot: snapshot!, summary };
}

/** The system's own view of the funnel, from analytics (ClickHouse), summed over the demo campaigns. */
async function readFunnel(stack: RunningStack, campaignIds: string[]): Promise<Omit<ProgressSnapshot, 'elapsedMs' | 'requested' | 'senders'>> {
  const totals = { sent: 0, delivered: 0, read: 0, failed: 0, rejected: 0, spendUsd: 0 as number | null };
  for (const id of campaignIds) {
    const res = await fetch(`${stack.urls.analytics}/v1/campaigns/${id}`, { signal: AbortSignal.timeout(5_000) }).catch(() => null);
    if (res?.status === 404) continue; // no events for this campaign yet
    if (!res?.ok) {
      totals.spendUsd = null;
      continue;
    }
    const c = (await res.json()) as CampaignFunnel;
    totals.sent += c.funnel.messages;
    totals.delivered += c.funnel.delivered;
    totals.read += c.funnel.read;
    totals.failed += c.funnel.failed;
    totals.rejected += c.failuresByReason.filter((f) => f.stage !== 'webhook').reduce((n, f) => n + f.count, 0);
    if (totals.spendUsd !== null) totals.spendUsd += Number(c.cost.spendUsd);
  }
  return totals;
}

/** The part of analytics' `GET /v1/campaigns/:id` the demo reads. */
interface CampaignFunnel {
  funnel: { messages: number; delivered: number; read: number; failed: number };
  failuresByReason: Array<{ stage: string; count: number }>;
  cost: { spendUsd: string };
}

async function readSummary(stack: RunningStack, campaignIds: string[]): Promise<DemoSummary> {
  const safe = <T>(p: Promise<T>) => p.catch((e: Error) => ({ error: e.message }) as unknown as T);
  const [delivery, byCategory, byCountry, sim, ...campaigns] = await Promise.all([
    safe(getJson(`${stack.urls.analytics}/v1/stats/delivery`)),
    safe(getJson(`${stack.urls.analytics}/v1/stats/costs?groupBy=category`)),
    safe(getJson(`${stack.urls.analytics}/v1/stats/costs?groupBy=country`)),
    getJson(`${stack.urls.sim}/_sim/stats`),
    ...campaignIds.map((id) => safe(getJson(`${stack.urls.analytics}/v1/campaigns/${id}`))),
  ]);
  const failures = new Map<string, number>();
  for (const c of campaigns as Array<{ failuresByReason?: Array<{ stage: string; reason: string; errorCode: number; count: number }> }>) {
    for (const f of c.failuresByReason ?? []) {
      const key = `${f.stage}: ${f.reason}${f.errorCode ? ` (${f.errorCode})` : ''}`;
      failures.set(key, (failures.get(key) ?? 0) + f.count);
    }
  }
  const costRows = (r: any) => (Array.isArray(r?.rows) ? r.rows.map((x: any) => ({ key: String(x.key), units: Number(x.billableUnits ?? 0), usd: Number(x.spendUsd ?? 0) })) : []);
  return {
    deliveryRate: Array.isArray(delivery?.rows) && delivery.rows[0] ? delivery.rows[0].deliveryRate : null,
    failuresByReason: [...failures].sort((a, b) => b[1] - a[1]),
    costByCategory: costRows(byCategory),
    costByCountry: costRows(byCountry),
    simulator: { accepted: Number(sim.accepted), duplicateSends: Number(sim.duplicateSends?.count ?? 0), rejectedByCode: sim.rejectedByCode ?? {}, failedByCode: sim.failedByCode ?? {} },
  };
}

export interface DemoSummary {
  deliveryRate: number | null;
  failuresByReason: Array<[string, number]>;
  costByCategory: Array<{ key: string; units: number; usd: number }>;
  costByCountry: Array<{ key: string; units: number; usd: number }>;
  simulator: { accepted: number; duplicateSends: number; rejectedByCode: Record<string, number>; failedByCode: Record<string, number> };
}
