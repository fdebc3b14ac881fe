import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningStack } from '../stack';
import { generateAudience, toCsv } from './audience';
import { renderProgress, type ProgressSnapshot } from './progress';

export interface DemoPlan {
  campaigns: Array<{ id: string; label: string; recipients: number; request: (audiencePath: string) => Record<string, unknown> }>;
  otps: number;
}

/** The demo: two numbers in two portfolios with different tiers, mixed categories, invalid numbers and duplicates. */
export function demoPlan(totalRecipients: number): DemoPlan {
  const otps = Math.min(50, Math.floor(totalRecipients / 100));
  const rest = totalRecipients - otps;
  const sale = Math.round(rest * 0.65);
  const orders = Math.round(rest * 0.1);
  const bistro = rest - sale - orders;
  return {
    otps,
    campaigns: [
      {
        id: 'demo-spring-sale',
        label: 'Acme spring sale (marketing, 250 msg/s number)',
        recipients: sale,
        request: (path) => ({
          sender: { pool: 'acme-main' },
          audience: { path, format: 'csv' },
          template: { name: 'spring_sale', language: 'en_US', category: 'marketing', headerParams: ['Spring'], bodyParams: ['20%'] },
        }),
      },
      {
        id: 'demo-orders',
        label: 'Acme order updates (utility)',
        recipients: orders,
        request: (path) => ({
          sender: { pool: 'acme-main' },
          audience: { path, format: 'csv' },
          template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1042', 'shipped'] },
        }),
      },
      {
        id: 'demo-bistro',
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

async function getJson(url: string, token?: string): Promise<any> {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(5_000) });
  if (!res.ok) throw new Error(`${url} answered ${res.status}`);
  return res.json();
}

async function postJson(url: string, body: unknown, token: string): Promise<any> {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
    body: JSON.stringify(body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`POST ${url} answered ${res.status}: ${text.slice(0, 500)}`);
  return JSON.parse(text);
}

export interface DemoResult {
  requested: number;
  snapshot: ProgressSnapshot;
  summary: Record<string, unknown>;
}

/**
 * Submits the demo broadcasts through the ingest API, draws progress until every accepted message
 * reached a final status (or the pipeline stays still for `idleTimeoutMs`), then prints a summary.
 */
export async function runDemo(stack: RunningStack, options: { recipients: number; dataDir: string; draw: (lines: string[]) => void; idleTimeoutMs?: number; signal?: AbortSignal }): Promise<DemoResult> {
  const plan = demoPlan(options.recipients);
  const started = Date.now();
  let requested = 0;
  const runId = started.toString(36);

  for (const [i, campaign] of plan.campaigns.entries()) {
    const audience = generateAudience({ size: campaign.recipients, seed: 1000 + i, invalidFraction: 0.01, duplicateFraction: 0.01 });
    const path = join(options.dataDir, `demo-audience-${campaign.id}.csv`);
    writeFileSync(path, toCsv(audience.rows));
    await postJson(`${stack.urls.ingest}/v1/notifications`, { v: 1, idempotencyKey: `${campaign.id}-${runId}`, campaignId: campaign.id, ...campaign.request(path) }, stack.secrets.ingestToken);
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
    const total = snapshot.sent + snapshot.delivered + snapshot.read + snapshot.failed + snapshot.rejected + Number(sim.statusesPending ?? 0);
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
    try {
      const c = await getJson(`${stack.urls.analytics}/v1/campaigns/${id}`);
      totals.sent += Number(c.sent ?? 0);
      totals.delivered += Number(c.delivered ?? 0);
      totals.read += Number(c.read ?? 0);
      totals.failed += Number(c.failed ?? 0);
      totals.rejected += Number(c.rejected ?? 0);
      totals.spendUsd = (totals.spendUsd ?? 0) + Number(c.costUsd ?? 0);
    } catch {
      totals.spendUsd = null;
    }
  }
  return totals;
}

async function readSummary(stack: RunningStack, campaignIds: string[]): Promise<Record<string, unknown>> {
  const [delivery, costs] = await Promise.all([
    getJson(`${stack.urls.analytics}/v1/stats/delivery`).catch((e: Error) => ({ error: e.message })),
    getJson(`${stack.urls.analytics}/v1/stats/costs`).catch((e: Error) => ({ error: e.message })),
  ]);
  const campaigns = await Promise.all(campaignIds.map((id) => getJson(`${stack.urls.analytics}/v1/campaigns/${id}`).catch((e: Error) => ({ id, error: e.message }))));
  const sim = await getJson(`${stack.urls.sim}/_sim/stats`);
  return { delivery, costs, campaigns, simulator: { accepted: sim.accepted, rejectedByCode: sim.rejectedByCode, failedByCode: sim.failedByCode, duplicateSends: sim.duplicateSends?.count } };
}
