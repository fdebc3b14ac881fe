import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';

/** Constant-time comparison of a presented token with any of the accepted ones (current and, during a rotation, the next). */
export function tokenMatches(accepted: readonly Buffer[], presented: string | undefined): boolean {
  if (!presented) return false;
  const got = Buffer.from(presented);
  let ok = false;
  for (const expected of accepted) if (got.length === expected.length && timingSafeEqual(got, expected)) ok = true;
  return ok;
}

export interface TokenGuard {
  /** Route patterns (as registered, e.g. `/v1/senders`) starting with this prefix need the token. */
  prefix: string;
  /** Accepted tokens; more than one while a rotation is under way. */
  tokens: readonly string[];
  /** The token the request presents (header names differ per API). */
  presented: (req: FastifyRequest) => string | undefined;
  unauthorized: (reply: FastifyReply) => unknown;
}

/** The bearer token of an `Authorization: Bearer …` header. */
export function bearerToken(req: FastifyRequest): string | undefined {
  const auth = req.headers.authorization;
  return auth?.startsWith('Bearer ') ? auth.slice(7) : undefined;
}

/**
 * Hangs the token check on the matched route, never on the spelling of the URL: the router decodes
 * percent-escapes before it matches (`/%761/senders` is `/v1/senders`), so a check on `req.url` can be
 * walked around. `req.routeOptions.url` is the pattern the request matched (undefined for a 404), so every
 * spelling that reaches a protected handler passes through here. Register before the protected routes' first request.
 */
export function requireToken(app: FastifyInstance, guard: TokenGuard): void {
  const accepted = guard.tokens.filter((t) => t.length > 0).map((t) => Buffer.from(t));
  if (accepted.length === 0) throw new Error('requireToken: no token configured');
  app.addHook('onRequest', async (req, reply) => {
    const route = req.routeOptions.url;
    // Fail closed: a request that matched no route is a 404 anyway; one that matched a protected pattern needs the token.
    if (route === undefined || !route.startsWith(guard.prefix)) return;
    if (!tokenMatches(accepted, guard.presented(req))) return guard.unauthorized(reply);
  });
}
