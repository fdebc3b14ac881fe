import type { FastifyInstance } from 'fastify';
import type { Registry } from 'prom-client';
import type { Readiness } from './readiness';

/**
 * Registers `/metrics`, `/healthz` (the process is alive and not stopping) and `/readyz`
 * (dependencies answer and start-up finished) on a fastify app.
 */
export function registerOpsRoutes(app: FastifyInstance, deps: { registry: Registry; readiness: Readiness }): void {
  app.get('/metrics', async (_req, reply) => {
    reply.header('content-type', deps.registry.contentType);
    return deps.registry.metrics();
  });
  app.get('/healthz', async (_req, reply) => {
    if (!deps.readiness.live) return reply.code(503).send({ status: 'stopping' });
    return { status: 'ok' };
  });
  app.get('/readyz', async (_req, reply) => {
    const report = await deps.readiness.evaluate();
    return reply.code(report.ready ? 200 : 503).send(report);
  });
}
