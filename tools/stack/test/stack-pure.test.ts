import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCatalogFile, normalisePhone } from '@wa/shared';
import { parseScenario } from '@wa/cloud-api-sim';
import { scenarioFromCatalog } from '../src/scenario-from-catalog';
import { generateAudience, toCsv } from '../src/demo/audience';
import { renderProgress } from '../src/demo/progress';
import { demoPlan } from '../src/demo/run-demo';

const catalog = loadCatalogFile(resolve(__dirname, '../../../config/catalog.demo.json'));

describe('scenarioFromCatalog', () => {
  const tokens = new Map(catalog.businesses.map((b) => [b.wabaId, `EAAGtoken-${b.wabaId}`]));

  it("produces a scenario the simulator accepts, with the catalogue's numbers, limits and templates", () => {
    const scenario = parseScenario(scenarioFromCatalog(catalog, { appSecret: 'app-secret-123', accessTokens: tokens }));
    const numbers = scenario.businesses.flatMap((b) => b.wabas.flatMap((w) => w.phoneNumbers));
    expect(numbers.map((n) => [n.id, n.throughputMps])).toEqual(catalog.phoneNumbers.map((n) => [n.id, n.throughputMps]));
    expect(scenario.businesses.map((b) => [b.id, b.messagingLimit])).toEqual([
      ['portfolio-acme', 100000],
      ['portfolio-bistro', 10000],
    ]);
    const otp = scenario.businesses[0]!.wabas[0]!.templates.find((t) => t.name === 'otp_code')!;
    expect(otp.params).toEqual({ header: 0, body: 1, buttons: [1] });
    expect(scenario.appSecret).toBe('app-secret-123');
  });

  it('keeps an unlimited messaging limit unlimited (regression: null became 250)', () => {
    const bench = loadCatalogFile(resolve(__dirname, '../../../config/catalog.bench.json'));
    const benchTokens = new Map(bench.businesses.map((b) => [b.wabaId, `EAAGtoken-${b.wabaId}`]));
    const scenario = parseScenario(scenarioFromCatalog(bench, { appSecret: 'app-secret-123', accessTokens: benchTokens }));
    expect(scenario.businesses.map((b) => b.messagingLimit)).toEqual(['unlimited']);
  });

  it('refuses a catalogue business without an access token', () => {
    expect(() => scenarioFromCatalog(catalog, { appSecret: 'app-secret-123', accessTokens: new Map() })).toThrow(/no access token/);
  });
});

describe('demo audience', () => {
  it('is deterministic and has the requested size, invalid entries and duplicates', () => {
    const a = generateAudience({ size: 5000, seed: 1, invalidFraction: 0.01, duplicateFraction: 0.01 });
    const b = generateAudience({ size: 5000, seed: 1, invalidFraction: 0.01, duplicateFraction: 0.01 });
    expect(a.rows).toEqual(b.rows);
    expect(a.rows).toHaveLength(5000);
    expect(a.invalid).toBeGreaterThan(20);
    expect(a.duplicates).toBeGreaterThan(20);
    expect(a.validDistinct.size + a.invalid + a.duplicates).toBe(5000);
    const valid = a.rows.filter((r) => normalisePhone(r.phone).ok);
    expect(new Set(valid.map((r) => normalisePhone(r.phone).ok && (normalisePhone(r.phone) as { waId: string }).waId)).size).toBe(a.validDistinct.size);
    expect(toCsv(a.rows.slice(0, 2)).split('\n')[0]).toBe('phone,name');
  });
});

describe('demo plan and progress', () => {
  it('covers exactly the requested number of recipients', () => {
    const plan = demoPlan(20_000);
    expect(plan.campaigns.reduce((n, c) => n + c.recipients, 0) + plan.otps).toBe(20_000);
  });
  it('renders every line of the accounting, and rates against the paced target and limit', () => {
    const lines = renderProgress({
      elapsedMs: 12_000,
      scope: 'this run',
      expanded: true,
      requested: 1000,
      duplicates: 10,
      invalid: 10,
      refusedByUs: 5,
      acceptedByMeta: 600,
      refusedByMeta: 2,
      unknown: 0,
      pending: 373,
      delivered: 500,
      read: 250,
      failedAfterAcceptance: 10,
      awaitingStatus: 90,
      senders: [{ id: '1', label: '+15550783881', rate: 240, target: 238, limit: 250 }],
      throttled: 0,
      spendUsd: 1.23456,
    });
    expect(lines[0]).toContain('12 s — scope: this run');
    expect(lines.find((l) => l.includes('accepted by Meta'))).toMatch(/600\s+delivered 500 \(read 250\), failed after 10, awaiting status 90/);
    expect(lines.find((l) => l.includes('pending'))).toMatch(/373/);
    expect(lines.find((l) => l.includes('+15550783881'))).toMatch(/240 \/ {2}238 \/ 250/);
    expect(lines.at(-1)).toContain('$1.2346');
  });
});
