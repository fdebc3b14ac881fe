/**
 * The comparison line of bench:dispatch (scenario C): a BullMQ worker with BullMQ's own rate limiter
 * (`limiter: { max: rate, duration: 1000 }`) sending queued jobs to the simulator through the
 * dispatcher's Graph API client (same request body, same connection pool). Started by
 * bench/dispatch.bench.ts as its own process, so its CPU is its own; writes the send times, the
 * answers and its CPU time to BULLMQ_OUT when BULLMQ_JOBS jobs are done.
 * Env: REDIS_URL, BULLMQ_QUEUE, BULLMQ_PREFIX, BULLMQ_JOBS, BULLMQ_RATE, BULLMQ_CONCURRENCY, BULLMQ_OUT,
 * SIM_URL, PHONE_NUMBER_ID, ACCESS_TOKEN.
 */
import { writeFileSync } from 'node:fs';
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { CloudApiHttp } from '../services/dispatcher/src/adapters/cloud-api-http';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is not set`);
  return v;
};
const JOBS = Number(env('BULLMQ_JOBS'));
const RATE = Number(env('BULLMQ_RATE'));
const api = new CloudApiHttp({ baseUrl: env('SIM_URL'), version: 'v24.0', connections: 512, timeoutMs: 10_000, connectTimeoutMs: 5_000 });
const phoneNumberId = env('PHONE_NUMBER_ID');
const accessToken = env('ACCESS_TOKEN');

/** Per send: when the request left (ms), and the answer (0 = accepted, else the error code or HTTP status). */
const sentAt: number[] = [];
const answers: number[] = [];
let done = 0;
const cpuAtStart = process.cpuUsage();
const startedAt = Date.now();

const connection = new Redis(env('REDIS_URL'), { maxRetriesPerRequest: null });
const worker = new Worker(
  env('BULLMQ_QUEUE'),
  async (job) => {
    const data = job.data as { to: string; jobId: string };
    const at = Date.now();
    const result = await api.send({
      phoneNumberId,
      accessToken,
      to: data.to,
      message: { type: 'template', template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1'] } },
      callbackData: data.jobId,
    });
    sentAt.push(at);
    answers.push(result.kind === 'accepted' ? 0 : (result.code ?? result.httpStatus ?? -1));
  },
  {
    connection,
    prefix: env('BULLMQ_PREFIX'),
    concurrency: Number(env('BULLMQ_CONCURRENCY')),
    limiter: { max: RATE, duration: 1_000 },
    removeOnComplete: { count: 0 },
    removeOnFail: { count: 0 },
  },
);

worker.on('completed', () => {
  if (++done < JOBS) return;
  const cpu = process.cpuUsage(cpuAtStart);
  writeFileSync(env('BULLMQ_OUT'), JSON.stringify({ sentAt, answers, cpuMs: (cpu.user + cpu.system) / 1000, wallMs: Date.now() - startedAt }));
  void worker
    .close()
    .then(() => api.close())
    .finally(() => {
      connection.disconnect();
      process.exit(0);
    });
});
worker.on('failed', (_job, err) => console.error(`bullmq job failed: ${err.message}`));
