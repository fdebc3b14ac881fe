import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { indexCatalog, loadCatalogFile } from '@wa/shared/catalog';
import type { NotificationRequestV1 } from '@wa/shared/contracts/notification-request';
import { AppError } from '@wa/shared/errors';
import { createReadiness } from '@wa/shared/readiness';
import { buildApp, type AppDeps } from '../../src/http/app';

// Hostile requests against the ingest HTTP API (no services: the app is driven through inject, which hands the
// raw request line to the same router a socket would).
const TOKEN = 'ingest-token-for-security-tests';
const catalog = indexCatalog(loadCatalogFile(fileURLToPath(new URL('../../../../config/catalog.example.json', import.meta.url))));

function setup(overrides: Partial<AppDeps> = {}) {
  const submitted: NotificationRequestV1[] = [];
  const app = buildApp({
    apiToken: TOKEN,
    maxRecordBytes: 64 * 1024,
    batchBodyLimitBytes: 256 * 1024,
    maxBatchJobs: 100,
    catalog,
    coalesceWindowMs: 0,
    audience: {
      resolve: async () => {
        throw new AppError('audience_unreadable', 'audience file cannot be opened', 'dead-letter');
      },
      chunks: () => {
        throw new Error('not used');
      },
    },
    submit: async (jobs) => {
      submitted.push(...jobs.map((j) => j.request));
      return jobs.map(() => 'accepted' as const);
    },
    registry: new Registry(),
    readiness: createReadiness(),
    ...overrides,
  });
  return { app, submitted };
}

const job = (over: Record<string, unknown> = {}) => ({
  v: 1,
  idempotencyKey: `k-${Math.random()}`,
  sender: { phoneNumberId: '106540352242922' },
  to: '+14155550123',
  template: { name: 'order_update', language: 'en_US', category: 'utility', bodyParams: ['A-1', 'shipped'] },
  ...over,
});

/** Spellings of a protected path that a router may treat as the same route. */
function spellings(path: string): string[] {
  const rest = path.slice('/v1/'.length);
  const firstLetter = rest[0]!;
  const encoded = `%${firstLetter.charCodeAt(0).toString(16)}`;
  return [
    `/%761/${rest}`,
    `/v%31/${rest}`,
    `/%76%31/${rest}`,
    `/%56%31/${rest}`,
    `/v1%2F${rest}`,
    `/v1%2f${rest}`,
    `/%2Fv1/${rest}`,
    `/v1/${encoded}${rest.slice(1)}`,
    `//v1/${rest}`,
    `/v1//${rest}`,
    `/./v1/${rest}`,
    `/v1/./${rest}`,
    `/x/../v1/${rest}`,
    `/V1/${rest}`,
    `/v1/${rest.toUpperCase()}`,
    `/v1/${rest}/`,
    `/v1/${rest}?`,
    `/v1/${rest}?x=/healthz`,
    `/v1/${rest};x`,
    `/v1/${rest}%00`,
    `/v1/${rest}#frag`,
    path,
  ];
}

describe('ingest API: the token check hangs on the matched route', () => {
  for (const [method, path, payload] of [
    ['POST', '/v1/notifications', () => job()],
    ['POST', '/v1/notifications:batch', () => ({ jobs: [job()] })],
  ] as const) {
    it(`${method} ${path}: every spelling and method without a token is 401 or 404 and enqueues nothing`, async () => {
      const { app, submitted } = setup();
      const answers: string[] = [];
      for (const url of spellings(path)) {
        for (const m of [method, 'GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE'] as const) {
          for (const headers of [{}, { 'x-api-token': '' }, { authorization: 'Bearer ' }, { 'x-api-token': TOKEN.toUpperCase() }, { authorization: `bearer ${TOKEN}x` }]) {
            const res = await app.inject({ method: m, url, headers, ...(m === 'POST' || m === 'PUT' ? { payload: payload() } : {}) });
            if (![401, 404].includes(res.statusCode)) answers.push(`${m} ${url} ${JSON.stringify(headers)} → ${res.statusCode}`);
          }
        }
      }
      expect(answers).toEqual([]);
      expect(submitted).toEqual([]);
    });
  }

  it('a percent-encoded spelling that routes to a handler is served only with the token (the check is not on the spelling)', async () => {
    const { app, submitted } = setup();
    expect((await app.inject({ method: 'POST', url: '/%761/notifications', payload: job() })).statusCode).toBe(401);
    const withToken = await app.inject({ method: 'POST', url: '/%761/notifications', payload: job(), headers: { 'x-api-token': TOKEN } });
    expect(withToken.statusCode).toBe(202);
    expect(submitted).toHaveLength(1);
    // The ops routes stay open; nothing else answers without a token.
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(200);
    for (const url of ['/v1', '/v1/', '/', '/v2/notifications', '/notifications']) {
      expect([401, 404]).toContain((await app.inject({ method: 'POST', url, payload: job() })).statusCode);
    }
  });

  it('accepts the previous token during a rotation, and only the configured ones', async () => {
    const { app } = setup({ previousApiToken: 'the-old-ingest-token-being-rotated' });
    expect((await app.inject({ method: 'POST', url: '/v1/notifications', payload: job(), headers: { authorization: 'Bearer the-old-ingest-token-being-rotated' } })).statusCode).toBe(202);
    expect((await app.inject({ method: 'POST', url: '/v1/notifications', payload: job(), headers: { 'x-api-token': TOKEN } })).statusCode).toBe(202);
    expect((await app.inject({ method: 'POST', url: '/v1/notifications', payload: job(), headers: { 'x-api-token': 'the-old-ingest-token-being-rotatex' } })).statusCode).toBe(401);
  });

  it('POST /v1/notificationsXYZ does not reach the batch handler (`:batch` is a literal, not a parameter)', async () => {
    const { app, submitted } = setup();
    for (const url of ['/v1/notificationsXYZ', '/v1/notifications:batchX', '/v1/notifications:', '/v1/notifications%3Abatc']) {
      const res = await app.inject({ method: 'POST', url, payload: { jobs: [job()] }, headers: { 'x-api-token': TOKEN } });
      expect(res.statusCode, url).toBe(404);
    }
    expect(submitted).toEqual([]);
    const batch = await app.inject({ method: 'POST', url: '/v1/notifications:batch', payload: { jobs: [job()] }, headers: { 'x-api-token': TOKEN } });
    expect(batch.statusCode).toBe(202);
  });
});
