import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { createReadiness } from '@wa/shared/readiness';
import type { AnalyticsQueries } from '../../src/adapters/analytics-queries';
import { buildApp } from '../../src/http/app';

const chError = () => Promise.reject(new Error('Code: 60. DB::Exception: Unknown table expression identifier wa.status_events_secret. (UNKNOWN_TABLE)'));
const queries = new Proxy({}, { get: () => chError }) as unknown as AnalyticsQueries;
const app = () => buildApp({ queries, registry: new Registry(), readiness: createReadiness(), dashboard: { title: 't', refreshMs: 5_000 } });

describe('analytics API (internal network only): errors and headers', () => {
  it('returns a generic error with a request id, never ClickHouse error text', async () => {
    const res = await app().inject({ method: 'GET', url: '/v1/stats/delivery' });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toMatch(/DB::Exception|status_events_secret|UNKNOWN_TABLE/);
    expect(res.json()).toMatchObject({ error: 'internal_error', requestId: expect.stringMatching(/^[0-9a-f-]{36}$/) });
  });

  it('the dashboard and API send CSP (frame-ancestors none), nosniff and no framing', async () => {
    for (const url of ['/', '/assets/dashboard.js', '/v1/stats/costs']) {
      const res = await app().inject({ method: 'GET', url });
      expect(res.headers['x-content-type-options'], url).toBe('nosniff');
      expect(String(res.headers['content-security-policy']), url).toMatch(/frame-ancestors 'none'/);
      expect(String(res.headers['content-security-policy']), url).toMatch(/script-src 'self'/);
      expect(res.headers['x-frame-options'], url).toBe('DENY');
    }
  });
});
