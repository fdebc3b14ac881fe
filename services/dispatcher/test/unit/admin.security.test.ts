import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { indexCatalog, loadCatalogFile } from '@wa/shared/catalog';
import { summariseCampaign } from '@wa/shared/campaigns';
import { createReadiness } from '@wa/shared/readiness';
import { buildApp, type AppDeps } from '../../src/http/app';
import type { AccountState, CampaignControl, CampaignState, MessagingLimits, RateLimiter } from '../../src/ports';

// Hostile requests against the dispatcher's admin API, driven through inject (the same router a socket reaches).
const TOKEN = 'admin-token-for-security-tests';
const WABA = '102290129340398';
const catalog = indexCatalog(loadCatalogFile(fileURLToPath(new URL('../../../../config/catalog.example.json', import.meta.url))));

function setup(overrides: Partial<AppDeps> = {}) {
  const effects: string[] = [];
  const campaigns: CampaignControl = {
    state: async () => 'active',
    set: async (id: string, state: CampaignState) => void effects.push(`set ${id} ${state}`),
    count: () => undefined,
    summary: async (id: string) => summariseCampaign(id, { created: '1' }),
  };
  const account = {
    messagingLimit: () => 1_000,
    throughputMps: () => 80,
    quality: () => 'GREEN',
    templateStatus: () => undefined,
    recipient: async () => ({ optedOut: false, lastInboundMs: undefined }),
    accountPaused: () => false,
    pauseAccount: async () => undefined,
    resumeAccount: async (waba: string) => void effects.push(`resume ${waba}`),
  } satisfies AccountState;
  const limiter = {
    rateOf: () => {
      effects.push('rateOf');
      return { targetMps: 80, limitMps: 80, factor: 1, inboundMps: 0, inboundHeld: false };
    },
  } as unknown as RateLimiter;
  const limits = {
    used: async () => {
      effects.push('used');
      return 0;
    },
    countNew: async () => {
      effects.push('countNew');
      return 0;
    },
  } as unknown as MessagingLimits;
  const app = buildApp({
    adminToken: TOKEN,
    registry: new Registry(),
    readiness: createReadiness(),
    catalog,
    campaigns,
    account,
    limiter,
    limits,
    overflowPolicy: 'spread',
    ...overrides,
  });
  return { app, effects };
}

const routes: [method: 'GET' | 'POST', path: string, body?: unknown][] = [
  ['POST', '/v1/campaigns/c-1/pause'],
  ['POST', '/v1/campaigns/c-1/resume'],
  ['POST', '/v1/campaigns/c-1/cancel'],
  ['GET', '/v1/campaigns/c-1'],
  ['POST', '/v1/campaigns/c-1/admission', { sender: { phoneNumberId: '106540352242922' }, recipients: ['14155550123'] }],
  ['GET', '/v1/senders'],
  ['POST', `/v1/accounts/${WABA}/resume`],
];

function spellings(path: string): string[] {
  const rest = path.slice('/v1/'.length);
  const encoded = `%${rest.charCodeAt(0).toString(16)}`;
  return [
    `/%761/${rest}`,
    `/v%31/${rest}`,
    `/%76%31/${rest}`,
    `/%56%31/${rest}`,
    `/v1%2F${rest}`,
    `/%2Fv1/${rest}`,
    `/v1/${encoded}${rest.slice(1)}`,
    `/v1/${rest.replaceAll('/', '%2F')}`,
    `//v1/${rest}`,
    `/v1//${rest}`,
    `/./v1/${rest}`,
    `/x/../v1/${rest}`,
    `/V1/${rest}`,
    `/v1/${rest.toUpperCase()}`,
    `/v1/${rest}/`,
    `/v1/${rest}?`,
    `/v1/${rest}?token=${TOKEN}`,
    `/v1/${rest};x`,
    `/v1/${rest}#frag`,
    path,
  ];
}

describe('dispatcher admin API: the token check hangs on the matched route', () => {
  it('every authenticated route, in every spelling and method, without a (right) token is 401 or 404 and has no effect', async () => {
    const { app, effects } = setup();
    const answers: string[] = [];
    for (const [method, path, body] of routes) {
      for (const url of spellings(path)) {
        for (const m of [method, 'GET', 'HEAD', 'OPTIONS', 'POST', 'DELETE'] as const) {
          for (const headers of [
            {},
            { authorization: 'Bearer ' },
            { 'x-admin-token': '' },
            { authorization: `Basic ${TOKEN}` },
            { 'x-admin-token': `${TOKEN} ` },
          ]) {
            const res = await app.inject({ method: m, url, headers, ...(m === 'POST' ? { payload: body ?? {} } : {}) });
            if (![401, 404].includes(res.statusCode)) answers.push(`${m} ${url} ${JSON.stringify(headers)} → ${res.statusCode}`);
          }
        }
      }
    }
    expect(answers).toEqual([]);
    expect(effects).toEqual([]);
  });

  it('the encoded spellings that reach a handler (cancel, resume account, senders) are served only with the token', async () => {
    const { app, effects } = setup();
    expect((await app.inject({ method: 'POST', url: '/%761/campaigns/c-1/cancel' })).statusCode).toBe(401);
    expect((await app.inject({ method: 'POST', url: `/%761/accounts/${WABA}/resume` })).statusCode).toBe(401);
    expect((await app.inject({ method: 'GET', url: '/%761/senders' })).statusCode).toBe(401);
    expect(effects).toEqual([]);
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await app.inject({ method: 'POST', url: '/%761/campaigns/c-1/cancel', headers: auth })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/%761/senders', headers: { 'x-admin-token': TOKEN } })).statusCode).toBe(200);
    expect(effects).toContain('set c-1 cancelled');
    expect((await app.inject({ method: 'GET', url: '/healthz' })).statusCode).toBe(200);
  });

  it('accepts the previous admin token during a rotation', async () => {
    const { app } = setup({ previousAdminToken: 'the-old-admin-token-being-rotated' });
    expect((await app.inject({ method: 'GET', url: '/v1/senders', headers: { authorization: 'Bearer the-old-admin-token-being-rotated' } })).statusCode).toBe(
      200,
    );
    expect((await app.inject({ method: 'GET', url: '/v1/senders', headers: { authorization: `Bearer ${TOKEN}` } })).statusCode).toBe(200);
  });
});
