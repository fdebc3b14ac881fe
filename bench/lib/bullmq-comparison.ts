import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import type { ScenarioInput } from '@wa/cloud-api-sim';
import { createRedis } from '@wa/shared/redis';
import { deleteKeysWithPrefix, testInfra, uniqueName } from '@wa/shared/testing';
import { TOKEN, world } from '../../services/dispatcher/test/integration/harness';
import { spawnSim, tempDir } from '../../services/dispatcher/test/integration/procs';
import { startCpuMeter } from './proc-stats';

export interface BullmqResult {
  configuredMps: number;
  jobs: number;
  sent: number;
  achievedMps: number;
  ratio: number;
  throttled130429: number;
  throttledShare: number;
  simPeakPerSecond: number;
  workerCpuMsPerSend: number;
  redisCpuMsPerSend: number;
}

/**
 * Scenario C of bench:dispatch: the same template to one simulator number at `mps`, from a backlog of
 * `durationS` seconds queued in BullMQ, sent by a BullMQ worker process (bench/bullmq-worker.ts) paced
 * by BullMQ's own limiter at the number's rate. Steady state as in A and B: from `rampMs` after the
 * first send to the last.
 */
export async function runBullmqComparison(options: {
  root: string;
  mps: number;
  durationS: number;
  rampMs: number;
  latency: NonNullable<ScenarioInput['faults']>['latency'];
}): Promise<BullmqResult> {
  const phoneNumberId = '4000';
  const w = world([{ id: phoneNumberId, mps: options.mps }], { messagingLimit: 100_000 });
  const logDir = tempDir('bench-dispatch-bullmq');
  const sim = await spawnSim(
    { ...w.scenario, faults: { transientFraction: 0, transientHttpStatus: 500, ecosystemThrottleFraction: 0, latency: options.latency } },
    logDir,
  );
  const redisUrl = testInfra().redisUrl;
  const redis = createRedis(redisUrl);
  const prefix = uniqueName('bench-bullmq');
  const queueName = 'sends';
  const jobs = Math.round(options.mps * options.durationS);
  const out = join(logDir, 'bullmq-result.json');
  try {
    const queue = new Queue(queueName, { connection: redis, prefix });
    for (let start = 0; start < jobs; start += 1_000) {
      const batch = Array.from({ length: Math.min(1_000, jobs - start) }, (_, k) => {
        const i = start + k;
        return { name: 'send', data: { to: String(4915200000000 + i), jobId: `bullmq-${i}` } };
      });
      await queue.addBulk(batch);
    }
    await queue.close();
    const cpu = startCpuMeter(options.root, { sim: sim.proc.pid });
    const child = spawn(process.execPath, ['--import', 'tsx', 'bench/bullmq-worker.ts'], {
      cwd: options.root,
      stdio: ['ignore', 'inherit', 'inherit'],
      env: {
        ...process.env,
        REDIS_URL: redisUrl,
        BULLMQ_QUEUE: queueName,
        BULLMQ_PREFIX: prefix,
        BULLMQ_JOBS: String(jobs),
        BULLMQ_RATE: String(options.mps),
        // Enough jobs in flight for the rate × the simulator's latency (p99 included).
        BULLMQ_CONCURRENCY: String(Math.max(50, Math.round(options.mps * 0.5))),
        BULLMQ_OUT: out,
        SIM_URL: sim.url,
        PHONE_NUMBER_ID: phoneNumberId,
        ACCESS_TOKEN: TOKEN,
      },
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    const cpuMs = cpu.read();
    if (code !== 0) throw new Error(`bullmq worker exited with ${code}`);
    const result = JSON.parse(readFileSync(out, 'utf8')) as { sentAt: number[]; answers: number[]; cpuMs: number };
    const stats = await sim.stats();
    const times = result.sentAt.filter((_, i) => result.answers[i] === 0).sort((a, b) => a - b);
    const steady = times.filter((t) => t >= times[0]! + options.rampMs);
    const spanMs = steady.length > 1 ? steady[steady.length - 1]! - steady[0]! : 0;
    const achieved = spanMs > 0 ? ((steady.length - 1) * 1000) / spanMs : 0;
    const throttled = stats.phoneNumbers[phoneNumberId]!.rejectedByCode['130429'] ?? 0;
    const perSend = (ms: number) => Math.round((ms / Math.max(1, result.sentAt.length)) * 1000) / 1000;
    return {
      configuredMps: options.mps,
      jobs,
      sent: times.length,
      achievedMps: Math.round(achieved * 10) / 10,
      ratio: Math.round((achieved / options.mps) * 1000) / 1000,
      throttled130429: throttled,
      throttledShare: Math.round((throttled / Math.max(1, result.sentAt.length)) * 10_000) / 10_000,
      simPeakPerSecond: stats.phoneNumbers[phoneNumberId]!.peakRequestsPerSecond,
      workerCpuMsPerSend: perSend(result.cpuMs),
      redisCpuMsPerSend: perSend(cpuMs.redis ?? NaN),
    };
  } finally {
    await sim.stop(5_000);
    await deleteKeysWithPrefix(redis, `${prefix}:`);
    redis.disconnect();
  }
}

/** Scenario C's table: the BullMQ worker, and the dispatcher's number of the same rate in scenario A. */
export function printBullmqComparison(
  bullmq: BullmqResult,
  ours: { ratio: number; achievedMps: number; sent: number; throttled130429: number; cpuMsPerSend: number; redisCpuMsPerSend?: number } | undefined,
): void {
  console.log("\nC. BullMQ's rate limiter (limiter { max: 1000, duration: 1000 }, one worker process) next to A's 1,000 msg/s number");
  const share = (throttled: number, sent: number) => Math.round((throttled / Math.max(1, sent)) * 10_000) / 10_000;
  console.table([
    {
      sender: 'BullMQ worker',
      ratio: bullmq.ratio,
      achievedMps: bullmq.achievedMps,
      throttled130429: bullmq.throttled130429,
      share130429: bullmq.throttledShare,
      cpuMsPerSend: bullmq.workerCpuMsPerSend,
      redisCpuMsPerSend: bullmq.redisCpuMsPerSend,
    },
    ...(ours
      ? [
          {
            sender: 'dispatcher (A)',
            ratio: ours.ratio,
            achievedMps: ours.achievedMps,
            throttled130429: ours.throttled130429,
            share130429: share(ours.throttled130429, ours.sent + ours.throttled130429),
            cpuMsPerSend: ours.cpuMsPerSend,
            redisCpuMsPerSend: ours.redisCpuMsPerSend,
          },
        ]
      : []),
  ]);
}
