import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunningStack } from './stack';
import { generateAudience, toCsv } from './demo/audience';
import { campaignReport, type OutcomeTally } from './outcomes';

export interface SubmittedBroadcast {
  campaignId: string;
  expectedJobs: number;
  invalid: number;
}

/** Submits a broadcast of a generated audience through the ingest HTTP API. */
export async function submitBroadcast(
  stack: RunningStack,
  options: { campaignId: string; size: number; seed: number; pool: string; template: Record<string, unknown>; dataDir: string },
): Promise<SubmittedBroadcast> {
  const audience = generateAudience({ size: options.size, seed: options.seed, invalidFraction: 0.01, duplicateFraction: 0.01 });
  const path = join(options.dataDir, `${options.campaignId}.csv`);
  writeFileSync(path, toCsv(audience.rows));
  const res = await fetch(`${stack.urls.ingest}/v1/notifications`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${stack.secrets.ingestToken}` },
    body: JSON.stringify({
      v: 1,
      idempotencyKey: `${options.campaignId}-${Date.now()}`,
      campaignId: options.campaignId,
      sender: { pool: options.pool },
      audience: { path, format: 'csv' },
      template: options.template,
    }),
  });
  if (res.status !== 202) throw new Error(`ingest answered ${res.status}: ${await res.text()}`);
  return { campaignId: options.campaignId, expectedJobs: audience.validDistinct.size, invalid: audience.invalid };
}

export async function simStats(stack: RunningStack): Promise<any> {
  const res = await fetch(`${stack.urls.sim}/_sim/stats`);
  return res.json();
}

/**
 * Waits until the simulator has no webhook delivery queued, in flight or awaiting a retry. A
 * campaign can be complete (every send has its final status) while later callbacks (read
 * receipts, redeliveries) are still on their way, so this is polled, not read once.
 */
export async function waitForWebhooksDrained(stack: RunningStack, timeoutMs: number): Promise<any> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const stats = await simStats(stack);
    if (stats.webhooks.pending === 0 || Date.now() > deadline) return stats;
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** Waits until `fraction` of a broadcast's jobs have a terminal outcome (to inject a fault mid-run). */
export async function waitForProgress(tally: OutcomeTally, broadcast: SubmittedBroadcast, fraction: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (campaignReport(tally, broadcast.campaignId).terminal < broadcast.expectedJobs * fraction) {
    if (Date.now() > deadline)
      throw new Error(
        `${broadcast.campaignId}: ${fraction * 100}% progress not reached in ${timeoutMs} ms (${JSON.stringify(campaignReport(tally, broadcast.campaignId))})`,
      );
    await new Promise((r) => setTimeout(r, 200));
  }
}

/**
 * Waits until every expected job has a terminal outcome and every sent one a final status from
 * Meta, or the pipeline stops moving for `stallMs`. Returns the report either way; the drill asserts.
 */
export async function waitForCompletion(tally: OutcomeTally, broadcast: SubmittedBroadcast, options: { stallMs: number; requireFinalStatus: boolean }) {
  let last = '';
  let lastChange = Date.now();
  for (;;) {
    const report = campaignReport(tally, broadcast.campaignId);
    const complete = report.terminal >= broadcast.expectedJobs && (!options.requireFinalStatus || report.sentWithFinalStatus >= report.sent);
    if (complete) return report;
    const fingerprint = JSON.stringify(report);
    if (fingerprint !== last) {
      last = fingerprint;
      lastChange = Date.now();
    }
    if (Date.now() - lastChange > options.stallMs) return report;
    await new Promise((r) => setTimeout(r, 250));
  }
}
