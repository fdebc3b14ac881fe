import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';
import { createManualClock, createSimulator, type ManualClock, type ScenarioInput, type Simulator } from '../src/index';

export interface Received {
  raw: Buffer;
  headers: IncomingHttpHeaders;
  json: { object: string; entry: { id: string; time?: number; changes: { field: string; value: Record<string, unknown> }[] }[] };
}

/** A plain node HTTP receiver that records the exact bytes and answers with `respond()`. */
export async function startReceiver(
  respond: (n: number) => number = () => 200,
): Promise<{ url: string; received: Received[]; attempts: () => number; close: () => Promise<void>; server: Server }> {
  const received: Received[] = [];
  let attempts = 0;
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts++;
      const status = respond(attempts);
      const raw = Buffer.concat(chunks);
      if (status >= 200 && status < 300) received.push({ raw, headers: req.headers, json: JSON.parse(raw.toString('utf8')) as Received['json'] });
      res.writeHead(status).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/webhook`,
    received,
    attempts: () => attempts,
    server,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}

export const TOKEN = 'sim-access-token-1';
export const PHONE = '106540352242922';
export const WABA = '102290129340398';

/** Quiet defaults for tests: no random faults, no duplicates, no batching unless asked. */
export function testScenario(over: ScenarioInput = {}): ScenarioInput {
  return {
    seed: 7,
    ...over,
    population: {
      notOnWhatsAppFraction: 0,
      optedOutMarketingFraction: 0,
      experimentFraction: 0,
      replyFraction: 0,
      stopFraction: 0,
      readFraction: 1,
      ...over.population,
    },
    webhooks: {
      duplicateFraction: 0,
      outOfOrderFraction: 0,
      skipDeliveredFraction: 0,
      batchFraction: 0,
      delaysMs: { sent: [10, 10], delivered: [20, 20], read: [30, 30] },
      retry: { baseMs: 50, factor: 2, maxDelayMs: 1000, maxAttempts: 4, maxAgeMs: 60_000 },
      ...over.webhooks,
    },
  };
}

export function makeSim(over: ScenarioInput = {}, webhookUrl?: string): { sim: Simulator; clock: ManualClock } {
  const clock = createManualClock();
  const sim = createSimulator({ scenario: testScenario(over), clock, ...(webhookUrl ? { webhookUrl } : {}) });
  return { sim, clock };
}

export function templateBody(to: string, name = 'order_update', extra: Record<string, unknown> = {}, params = { body: 1, button: 1 }): Record<string, unknown> {
  const components: unknown[] = [];
  if (params.body > 0) components.push({ type: 'body', parameters: Array.from({ length: params.body }, (_, i) => ({ type: 'text', text: `p${i}` })) });
  if (params.button > 0) components.push({ type: 'button', sub_type: 'url', index: '0', parameters: [{ type: 'text', text: 'A-1' }] });
  return {
    messaging_product: 'whatsapp',
    recipient_type: 'individual',
    to,
    type: 'template',
    template: { name, language: { code: 'en_US' }, components },
    ...extra,
  };
}

export function textBody(to: string, body = 'hello'): Record<string, unknown> {
  return { messaging_product: 'whatsapp', to, type: 'text', text: { body } };
}

export async function send(sim: Simulator, body: unknown, opts: { phone?: string; token?: string | null; version?: string } = {}) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (opts.token !== null) headers.authorization = `Bearer ${opts.token ?? TOKEN}`;
  const res = await sim.app.inject({
    method: 'POST',
    url: `/${opts.version ?? 'v21.0'}/${opts.phone ?? PHONE}/messages`,
    headers,
    payload: JSON.stringify(body),
  });
  return { status: res.statusCode, body: res.json() as Record<string, any> };
}

/** Advances sim-time and waits until everything due has been posted. */
export async function advance(sim: Simulator, clock: ManualClock, ms: number, steps = 4): Promise<void> {
  for (let i = 0; i < steps; i++) {
    clock.advance(ms / steps);
    await sim.flush();
  }
  await sim.flush();
}

export function statusesOf(received: Received[]): Record<string, any>[] {
  return received.flatMap((r) => r.json.entry.flatMap((e) => e.changes.flatMap((c) => (c.value.statuses as Record<string, any>[] | undefined) ?? [])));
}

export async function waitFor(cond: () => boolean, timeoutMs = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error('timed out waiting for condition');
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A `makeSim` for one test file whose simulators are all closed after each test. */
export function simsClosedAfterEach(): (...args: Parameters<typeof makeSim>) => ReturnType<typeof makeSim> {
  let sims: Simulator[] = [];
  afterEach(async () => {
    await Promise.all(sims.map((s) => s.close()));
    sims = [];
  });
  return (...args) => {
    const r = makeSim(...args);
    sims.push(r.sim);
    return r;
  };
}
