/**
 * The reference design `npm run bench:webhook` compares the webhook receiver with: a minimal
 * fastify receiver that verifies X-Hub-Signature-256 over the raw bytes and adds the raw body to a
 * BullMQ queue in Redis before answering 200. Run as its own process by the benchmark:
 *
 *   REF_PORT=18090 REF_SECRET=… REF_QUEUE_PREFIX=bench-ref REDIS_URL=redis://127.0.0.1:6379 \
 *     node --import tsx bench/reference-webhook-receiver.ts
 * REF_STORE=none answers 200 after the HMAC check without storing: the benchmark's floor for any fastify receiver.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { Queue } from 'bullmq';
import Fastify from 'fastify';
import { Redis } from 'ioredis';

const port = Number(process.env.REF_PORT ?? 18090);
const secret = process.env.REF_SECRET ?? '';
const prefix = process.env.REF_QUEUE_PREFIX ?? 'bench-ref';
// 'none' answers without storing anything: the floor of any fastify receiver (HTTP + HMAC) on this machine.
const store = process.env.REF_STORE ?? 'bullmq';
if (secret === '') throw new Error('REF_SECRET is required');

const connection = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { maxRetriesPerRequest: null });
const queue = new Queue('webhooks', { connection, prefix });
const app = Fastify({ logger: false, bodyLimit: 1_048_576 });
app.removeAllContentTypeParsers();
app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

app.post('/webhook', async (req, reply) => {
  const body = req.body as Buffer;
  const header = req.headers['x-hub-signature-256'];
  const given = typeof header === 'string' && header.startsWith('sha256=') ? Buffer.from(header.slice(7), 'hex') : undefined;
  const expected = createHmac('sha256', secret).update(body).digest();
  if (given === undefined || given.length !== expected.length || !timingSafeEqual(given, expected)) return reply.code(401).send();
  if (store !== 'none') await queue.add('webhook', { body: body.toString('utf8') });
  return reply.code(200).type('text/plain').send('EVENT_RECEIVED');
});
app.get('/readyz', async () => {
  await connection.ping();
  return { ready: true };
});

const shutdown = async () => {
  await app.close();
  await queue.close();
  await connection.quit();
  process.exit(0);
};
process.once('SIGTERM', () => void shutdown());
process.once('SIGINT', () => void shutdown());
await app.listen({ port, host: '127.0.0.1' });
