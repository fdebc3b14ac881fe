import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { CloudApiHttp } from '../../src/adapters/cloud-api-http';

let cleanup: (() => Promise<void>) | undefined;
afterEach(async () => {
  await cleanup?.();
  cleanup = undefined;
});

function busyWait(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    /* the event loop is busy, as in a saturated dispatcher */
  }
}

describe('Graph API client: when a request really leaves (local HTTP server)', () => {
  it('reports the write of a request on a reused keep-alive connection when it happens, after a busy stretch of the event loop, not at send()', async () => {
    const arrivals: number[] = [];
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        arrivals.push(performance.now());
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(
          JSON.stringify({ messaging_product: 'whatsapp', contacts: [{ input: '4915100000001', wa_id: '4915100000001' }], messages: [{ id: 'wamid.test' }] }),
        );
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const api = new CloudApiHttp({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      version: 'v21.0',
      connections: 1,
      timeoutMs: 5_000,
      connectTimeoutMs: 1_000,
    });
    cleanup = async () => {
      await api.close();
      await new Promise<void>((r) => server.close(() => r()));
    };
    const send = (onWritten?: () => void) =>
      api.send({
        phoneNumberId: '1001',
        accessToken: 'token',
        to: '4915100000001',
        message: { type: 'text', text: { body: 'hi' } },
        callbackData: 'job-1',
        ...(onWritten ? { onWritten } : {}),
      });

    expect((await send()).kind).toBe('accepted'); // opens the connection
    const written: number[] = [];
    const calledAt = performance.now();
    const pending = send(() => written.push(performance.now()));
    busyWait(40);
    const result = await pending;
    expect(result.kind).toBe('accepted');
    expect(written).toHaveLength(1);
    // undici 7 (pinned) writes on a reused connection in the next check phase, so the bytes left after
    // the busy stretch: counting the send from send() would have placed it 40 ms too early.
    expect(written[0]! - calledAt).toBeGreaterThanOrEqual(35);
    expect(written[0]!).toBeLessThanOrEqual(arrivals[1]!);
  });
});

// https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages
// https://developers.facebook.com/documentation/business-messaging/whatsapp/support/error-codes/
describe("Graph API client: Meta's answers as documented (local HTTP server)", () => {
  it('keeps message_status of an accepted send and error_data.details of a refusal (no error_subcode needed)', async () => {
    const answers = [
      {
        status: 200,
        body: {
          messaging_product: 'whatsapp',
          contacts: [{ input: '4915100000001', wa_id: '4915100000001' }],
          messages: [{ id: 'wamid.held', message_status: 'held_for_quality_assessment' }],
        },
      },
      { status: 200, body: { messaging_product: 'whatsapp', messages: [{ id: 'wamid.paused', message_status: 'paused' }] } },
      {
        status: 429,
        body: {
          error: {
            message: '(#131048) Spam rate limit hit',
            type: 'OAuthException',
            code: 131048,
            error_data: {
              messaging_product: 'whatsapp',
              details: 'Message failed to send because there are restrictions on how many messages can be sent from this phone number.',
            },
            fbtrace_id: 'Axyz',
          },
        },
      },
    ];
    let i = 0;
    const server: Server = createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const a = answers[i++]!;
        res.writeHead(a.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(a.body));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const api = new CloudApiHttp({
      baseUrl: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
      version: 'v24.0',
      connections: 1,
      timeoutMs: 5_000,
      connectTimeoutMs: 1_000,
    });
    cleanup = async () => {
      await api.close();
      await new Promise<void>((r) => server.close(() => r()));
    };
    const send = () =>
      api.send({ phoneNumberId: '1001', accessToken: 'token', to: '4915100000001', message: { type: 'text', text: { body: 'hi' } }, callbackData: 'job-1' });
    expect(await send()).toMatchObject({ kind: 'accepted', wamid: 'wamid.held', messageStatus: 'held_for_quality_assessment' });
    expect(await send()).toMatchObject({ kind: 'accepted', wamid: 'wamid.paused', messageStatus: 'paused' });
    const refused = await send();
    expect(refused).toMatchObject({ kind: 'error', httpStatus: 429, code: 131048, mayHaveSent: false });
    expect(refused.kind === 'error' && refused.message).toContain('details: Message failed to send because there are restrictions');
  });
});
