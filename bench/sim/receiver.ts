import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** Webhook receiver child process: verifies every signature, counts POSTs and statuses. */
const secret = process.env.SIM_APP_SECRET ?? 'sim-app-secret';
let posts = 0;
let statuses = 0;
let inbound = 0;
let badSignatures = 0;
const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const raw = Buffer.concat(chunks);
    posts++;
    const sig = 'sha256=' + createHmac('sha256', secret).update(raw).digest('hex');
    if (sig !== req.headers['x-hub-signature-256']) badSignatures++;
    const body = JSON.parse(raw.toString('utf8')) as { entry: { changes: { value: { statuses?: unknown[]; messages?: unknown[] } }[] }[] };
    for (const e of body.entry)
      for (const c of e.changes) {
        statuses += c.value.statuses?.length ?? 0;
        inbound += c.value.messages?.length ?? 0;
      }
    res.writeHead(200).end();
  });
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => {
  process.send!({ port: (server.address() as AddressInfo).port });
});
process.on('message', (m: string) => {
  if (m === 'counts') process.send!({ posts, statuses, inbound, badSignatures });
  if (m === 'exit') server.close(() => process.exit(0));
});
