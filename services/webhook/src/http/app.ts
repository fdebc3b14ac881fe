import { timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance } from 'fastify';
import type { Message } from 'kafkajs';
import type { Logger } from 'pino';
import type { Counter, Histogram, Registry } from 'prom-client';
import { systemClock, type Clock } from '@wa/shared/clock';
import { isAppError } from '@wa/shared/errors';
import { registerOpsRoutes } from '@wa/shared/http-ops';
import type { Readiness } from '@wa/shared/readiness';
import { encodeRawRecord } from '@wa/shared/contracts/webhook-raw';
import { buildRawDelivery } from '../domain/raw-record';
import { verifySignature, type SigningSecret } from '../domain/signature';
import type { WebhookMetrics } from '../metrics';

/** The narrow port of the batching producer the HTTP layer needs: resolves once the record is durable, rejects (503) within a bounded time. */
export interface RawSink {
  send(message: Message): Promise<void>;
}

export interface AppDeps {
  secrets: readonly SigningSecret[];
  verifyToken: string;
  maxBodyBytes: number;
  sink: RawSink;
  metrics: WebhookMetrics;
  registry: Registry;
  readiness: Readiness;
  logger: Logger;
  clock?: Clock;
  /** false on a normaliser-only replica: /webhook is not served there, only the ops routes. */
  receiver?: boolean;
}

function safeEqual(a: string, b: string): boolean {
  const ab = Buffer.from(a);
  const bb = Buffer.from(b);
  return ab.length === bb.length && timingSafeEqual(ab, bb);
}

const header = (value: string | string[] | undefined): string | undefined => (Array.isArray(value) ? value[0] : value);

/** The fastify app of the webhook receiver; only main.ts / service.ts listen. */
export function buildApp(deps: AppDeps): FastifyInstance {
  const clock = deps.clock ?? systemClock;
  const app = Fastify({ logger: false, bodyLimit: deps.maxBodyBytes, keepAliveTimeout: 65_000, return503OnClosing: true });

  // The signature covers the exact bytes: keep the body as a Buffer, never re-serialise it.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer', bodyLimit: deps.maxBodyBytes }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') return reply.code(413).send({ error: { code: 'payload_too_large', limitBytes: deps.maxBodyBytes } });
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return reply.code(415).send({ error: { code: 'unsupported_media_type', expected: 'application/json' } });
    if (isAppError(err) && err.httpStatus === 503)
      return reply
        .code(503)
        .header('retry-after', '1')
        .send({ error: { code: err.code } });
    if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
      return reply.code(err.statusCode).send({ error: { code: err.code ?? 'bad_request' } });
    }
    // The route, never the URL: a GET /webhook URL carries hub.verify_token.
    deps.logger.error({ err, route: req.routeOptions.url, method: req.method }, 'webhook request failed');
    return reply.code(500).send({ error: { code: 'internal_error' } });
  });

  // Labelled children resolved once per status code / secret id, and a callback hook (no promise): this runs on every webhook.
  const byCode = new Map<number, { ack: Histogram.Internal<string>; count: Counter.Internal }>();
  const secretMatched = new Map<string, Counter.Internal>();
  app.addHook('onResponse', (req, reply, done) => {
    if (req.method === 'POST' && req.routeOptions.url === '/webhook') {
      let m = byCode.get(reply.statusCode);
      if (m === undefined) {
        const code = String(reply.statusCode);
        m = { ack: deps.metrics.ackDuration.labels({ code }), count: deps.metrics.requests.labels({ code }) };
        byCode.set(reply.statusCode, m);
      }
      m.ack.observe(reply.elapsedTime / 1000);
      m.count.inc();
    }
    done();
  });

  registerOpsRoutes(app, { registry: deps.registry, readiness: deps.readiness });
  if (deps.receiver === false) return app;

  app.get('/webhook', async (req, reply) => {
    const q = req.query as Record<string, string | undefined>;
    const mode = q['hub.mode'];
    const token = q['hub.verify_token'];
    const challenge = q['hub.challenge'];
    if (mode === 'subscribe' && token !== undefined && safeEqual(token, deps.verifyToken) && challenge !== undefined) {
      return reply.code(200).type('text/plain').send(challenge);
    }
    return reply.code(403).type('text/plain').send('Forbidden');
  });

  app.post('/webhook', async (req, reply) => {
    if (!Buffer.isBuffer(req.body)) return reply.code(415).send({ error: { code: 'unsupported_media_type', expected: 'application/json' } });
    const body = req.body;
    const signature = header(req.headers['x-hub-signature-256']);
    const check = verifySignature(body, signature, deps.secrets);
    if (!check.ok) {
      deps.metrics.signatureFailures.inc({ reason: check.reason });
      return reply.code(401).send({ error: { code: 'invalid_signature', reason: check.reason } });
    }
    let matched = secretMatched.get(check.secretId);
    if (matched === undefined) {
      matched = deps.metrics.secretMatches.labels({ secret_id: check.secretId });
      secretMatched.set(check.secretId, matched);
    }
    matched.inc();
    deps.metrics.payloadBytes.observe(body.length);
    const delivery = buildRawDelivery({
      body,
      contentType: header(req.headers['content-type']),
      signature,
      userAgent: header(req.headers['user-agent']),
      secretId: check.secretId,
      receivedAtMs: clock.now(),
    });
    if (!delivery.isJson) deps.metrics.nonJson.inc();
    // Persist before acknowledging: 200 only once Kafka confirmed the record (acks=-1); the sink bounds the wait.
    await deps.sink.send({ key: delivery.deliveryId, value: encodeRawRecord([delivery]) });
    return reply.code(200).type('text/plain').send('EVENT_RECEIVED');
  });
  return app;
}
