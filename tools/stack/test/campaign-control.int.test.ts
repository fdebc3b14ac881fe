import { execFile } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CampaignSummary } from '@wa/shared/campaigns';
import { writeEnvFile } from '@wa/cli/env-file';
import { cliEnvironment } from '../src/cli-env';
import { simStats, submitBroadcast } from '../src/drill-harness';
import { startStack, type RunningStack } from '../src/stack';

/**
 * Campaign control end to end: the whole pipeline as processes on the shared broker and Redis
 * (own topic and key prefixes), driven through the CLI with the settings file `npm start` writes.
 * Sends are counted by the simulator (Meta's side), not by the dispatcher's own bookkeeping.
 */
const root = resolve(__dirname, '../../..');
const runId = Date.now().toString(36);
const dataDir = resolve(root, `.data/test-campaign-control-${runId}`);
const envFile = join(dataDir, 'env');
const execFileP = promisify(execFile);
const REMINDER = { name: 'table_reminder', language: 'en_US', category: 'utility', bodyParams: ['7 pm', 'Friday'] };

let stack: RunningStack;

async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await execFileP(process.execPath, [join(root, 'tools/cli/bin/wa-broadcast.mjs'), ...args], {
      cwd: root,
      env: { PATH: process.env.PATH, HOME: process.env.HOME, WA_ENV_FILE: envFile },
      // Generous: the CLI starts through tsx, on a machine that may be busy.
      timeout: 90_000,
    });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code?: number; signal?: string; stdout?: string; stderr?: string };
    return { code: e.code ?? -1, stdout: e.stdout ?? '', stderr: `${e.stderr ?? ''}${e.signal ? ` (killed by ${e.signal})` : ''}` };
  }
}

/** The CLI's `status --json` (slow to start: once per phase). */
async function status(id: string): Promise<CampaignSummary> {
  const r = await cli('status', id, '--json');
  expect(r.code, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { campaign: CampaignSummary }).campaign;
}

/** The record the CLI shows, straight from the dispatcher's admin API (for polling). */
async function record(id: string): Promise<CampaignSummary> {
  const res = await fetch(`${stack.urls.dispatcher}/v1/campaigns/${id}`, { headers: { authorization: `Bearer ${stack.secrets.adminToken}` } });
  return (await res.json()) as CampaignSummary;
}

const phase = (what: string) => console.log(`${new Date().toISOString()} ${what}`);

const accepted = async () => Number((await simStats(stack)).accepted);

async function waitUntil<T>(what: string, read: () => Promise<T>, ok: (v: T) => boolean, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await read();
    if (ok(v)) return v;
    if (Date.now() > deadline) throw new Error(`${what} not reached in ${timeoutMs} ms; last: ${JSON.stringify(v)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('campaign control, end to end through the CLI', () => {
  beforeAll(async () => {
    mkdirSync(dataDir, { recursive: true });
    stack = await startStack({
      root,
      catalogPath: resolve(root, 'config/catalog.demo.json'),
      dataDir,
      kafkaBrokers: process.env.KAFKA_BROKERS ?? '127.0.0.1:9092',
      redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
      topicPrefix: `cc-${runId}.`,
      redisKeyPrefix: `cc-${runId}:`,
      ports: 'free',
      sim: { delaysMs: { sent: [20, 100], delivered: [100, 400], read: [200, 800] } },
    });
    writeEnvFile(envFile, cliEnvironment(stack), ['test']);
  }, 300_000);

  afterAll(async () => {
    await stack?.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }, 120_000);

  it('refuses to pause, and says it does not know, a campaign ingest never saw', async () => {
    const pause = await cli('pause', `no-such-${runId}`);
    expect(pause.code).toBe(3);
    expect(pause.stderr).toMatch(/no campaign "no-such-.*": ingest has accepted no request/);
    const after = await cli('status', `no-such-${runId}`);
    expect(after.code).toBe(3);
    expect(after.stderr).toMatch(/no campaign/);
    expect(after.stderr).not.toMatch(/\{/);
  });

  it('pause stops sends within seconds, resume restarts them within seconds, cancel closes out the rest; every recipient accounted for', async () => {
    const campaignId = `cc-${runId}`;
    // The 80 msg/s number: 2,000 messages take ~25 s, long enough to act in the middle.
    const broadcast = await submitBroadcast(stack, { campaignId, size: 2000, seed: 7, pool: 'bistro-main', template: REMINDER, dataDir });
    phase('submitted');
    await waitUntil('100 sends', record.bind(null, campaignId), (c) => c.acceptedByMeta >= 100, 120_000);
    phase('100 sent; pausing');

    const pause = await cli('pause', campaignId);
    expect(pause.code, pause.stderr).toBe(0);
    expect(pause.stdout).toMatch(/paused/);
    // Jobs already past the state check (about a second of the number's sends) may still go out.
    await new Promise((r) => setTimeout(r, 3_000));
    const whilePaused = await accepted();
    await new Promise((r) => setTimeout(r, 5_000));
    expect(await accepted(), 'sends during a pause').toBe(whilePaused);
    const paused = await status(campaignId);
    expect(paused.state).toBe('paused');
    expect(paused.pending).toBeGreaterThan(500);
    expect(paused.etaSeconds).toBeNull();
    const table = await cli('status', campaignId);
    expect(table.stdout).toMatch(/state: PAUSED/);

    phase('paused checked; resuming');
    const resume = await cli('resume', campaignId);
    expect(resume.code, resume.stderr).toBe(0);
    // From the moment the dispatcher confirmed (the CLI's own start-up through tsx is not the product's latency).
    const resumedAt = Date.now();
    // Paused jobs wait in the 1-minute retry tier; the resume releases them at once.
    await waitUntil('sends after resume', accepted, (n) => n >= whilePaused + 50, 10_000);
    const restartMs = Date.now() - resumedAt;
    expect(restartMs).toBeLessThan(10_000);
    expect((await status(campaignId)).state).toBe('active');

    phase(`resumed: sending again after ${restartMs} ms; cancelling`);
    const cancel = await cli('cancel', campaignId);
    expect(cancel.code, cancel.stderr).toBe(0);
    phase('cancelled');
    await waitUntil('every job closed', record.bind(null, campaignId), (c) => c.pending === 0, 60_000);
    const closed = await status(campaignId);
    expect(closed.state).toBe('cancelled');
    expect(closed.cancelled).toBeGreaterThan(0);
    const afterCancel = await accepted();
    await new Promise((r) => setTimeout(r, 3_000));
    expect(await accepted(), 'sends after a cancel').toBe(afterCancel);
    expect((await cli('resume', campaignId)).code).not.toBe(0);

    // Every requested recipient accounted for, once, and the simulator agrees on the sends.
    expect(closed.requested).toBe(2000);
    expect(closed.invalid).toBe(broadcast.invalid);
    expect(closed.jobs).toBe(broadcast.expectedJobs);
    expect(closed.duplicates + closed.invalid + closed.refusedByUs + closed.acceptedByMeta + closed.refusedByMeta + closed.unknown + closed.pending).toBe(
      closed.requested,
    );
    expect(closed.acceptedByMeta).toBe(await accepted());
    const sim = await simStats(stack);
    expect(sim.duplicateSends.count).toBe(0);
  }, 400_000);
});
