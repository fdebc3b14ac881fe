import { Pool } from 'undici';

/**
 * Load generator child process for bench/sim.bench.ts: keep-alive undici Pool, a fixed number
 * of requests in flight, unique recipients spread across the given phone numbers.
 */
interface Job {
  url: string;
  token: string;
  phones: string[];
  durationMs: number;
  inFlight: number;
  connections: number;
}

process.once('message', (job: Job) => {
  void run(job).then((r) => {
    process.send!(r, () => process.exit(0));
  });
});

async function run(job: Job) {
  const pool = new Pool(job.url, { connections: job.connections, pipelining: 1, keepAliveTimeout: 30_000 });
  const statuses = new Map<number, number>();
  const lat: number[] = [];
  let sent = 0;
  let seq = 0;
  const t0 = performance.now();
  const end = t0 + job.durationMs;
  async function worker(): Promise<void> {
    while (performance.now() < end) {
      const n = seq++;
      const phone = job.phones[n % job.phones.length]!;
      const to = String(4_470_000_000_000 + n);
      const body = JSON.stringify({
        messaging_product: 'whatsapp',
        recipient_type: 'individual',
        to,
        type: 'template',
        template: {
          name: 'order_update',
          language: { code: 'en_US' },
          components: [
            { type: 'body', parameters: [{ type: 'text', text: `A-${n}` }] },
            { type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: `A-${n}` }] },
          ],
        },
        biz_opaque_callback_data: `job-${n}`,
      });
      const s = performance.now();
      try {
        const res = await pool.request({
          path: `/v22.0/${phone}/messages`,
          method: 'POST',
          headers: { authorization: `Bearer ${job.token}`, 'content-type': 'application/json' },
          body,
        });
        await res.body.dump();
        statuses.set(res.statusCode, (statuses.get(res.statusCode) ?? 0) + 1);
      } catch {
        statuses.set(0, (statuses.get(0) ?? 0) + 1);
      }
      lat.push(performance.now() - s);
      sent++;
    }
  }
  await Promise.all(Array.from({ length: job.inFlight }, worker));
  const elapsed = performance.now() - t0;
  await pool.close();
  lat.sort((a, b) => a - b);
  const q = (p: number) => lat[Math.min(lat.length - 1, Math.floor(p * lat.length))] ?? 0;
  return { sent, elapsedMs: elapsed, byStatus: Object.fromEntries(statuses), p50Ms: q(0.5), p99Ms: q(0.99), maxMs: lat[lat.length - 1] ?? 0 };
}
