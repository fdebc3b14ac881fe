import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSimulator, ScenarioError } from '../src/index';
import { loadScenarioFile } from '../src/scenario';

const dir = mkdtempSync(join(tmpdir(), 'sim-scenario-'));
function file(name: string, text: string): string {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
}

function errorOf(fn: () => unknown): ScenarioError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScenarioError) return err;
    throw err;
  }
  throw new Error('expected a ScenarioError');
}

const validYaml = `
seed: 3
appSecret: yaml-secret-123
pricing: { model: CBP }
businesses:
  - id: acme
    messagingLimit: 2000
    wabas:
      - id: "555000111"
        accessTokens: [acme-token-123]
        phoneNumbers:
          - { id: "777000111", displayPhoneNumber: "15551230000", throughputMps: 200, quality: YELLOW }
        templates:
          - { name: welcome, language: en_US, category: marketing, params: { body: 1 } }
`;

describe('scenario files', () => {
  it('loads YAML and JSON with defaults applied', () => {
    const s = loadScenarioFile(file('ok.yaml', validYaml));
    expect(s.businesses[0]!.wabas[0]!.phoneNumbers[0]).toEqual({ id: '777000111', displayPhoneNumber: '15551230000', throughputMps: 200, quality: 'YELLOW' });
    expect(s.pricing.model).toBe('CBP');
    expect(s.rules.pairRate.intervalMs).toBe(6000);
    const j = loadScenarioFile(
      file(
        'ok.json',
        JSON.stringify({
          seed: 4,
          businesses: [
            {
              id: 'b',
              messagingLimit: -1,
              wabas: [{ id: '1', accessTokens: ['tok-abcdefgh'], phoneNumbers: [{ id: '2', displayPhoneNumber: '15550000000' }] }],
            },
          ],
        }),
      ),
    );
    expect(j.businesses[0]!.messagingLimit).toBe('unlimited');
    expect(j.businesses[0]!.wabas[0]!.phoneNumbers[0]!.throughputMps).toBe(80);
  });

  it.each([
    ['throughput above 1000', validYaml.replace('throughputMps: 200', 'throughputMps: 5000'), 'businesses[0].wabas[0].phoneNumbers[0].throughputMps'],
    ['messaging limit not a tier', validYaml.replace('messagingLimit: 2000', 'messagingLimit: 3000'), 'businesses[0].messagingLimit'],
    ['template status unknown', validYaml.replace('category: marketing,', 'category: marketing, status: LIVE,'), 'businesses[0].wabas[0].templates[0].status'],
    ['pricing model unknown', validYaml.replace('model: CBP', 'model: FLAT'), 'pricing.model'],
    ['fraction above 1', `${validYaml}\npopulation: { notOnWhatsAppFraction: 1.5 }\n`, 'population.notOnWhatsAppFraction'],
    [
      'duplicate phone number id',
      validYaml.replace(
        'templates:',
        'templates: []\n      - id: "555000112"\n        accessTokens: [other-token-1]\n        phoneNumbers: [{ id: "777000111", displayPhoneNumber: "15551230001" }]\n        x:',
      ),
      'businesses[0].wabas[1].phoneNumbers[0].id',
    ],
  ])('%s → start-up error naming %s', (_n, text, path) => {
    const p = file(`bad-${Math.random().toString(36).slice(2)}.yaml`, text);
    const err = errorOf(() => createSimulator({ scenarioFile: p }));
    expect(err.issues.map((i) => i.path)).toContain(path);
    expect(err.message).toContain(path);
  });

  it('unparseable files fail with the file named', () => {
    const p = file('broken.json', '{"seed": 1,');
    const err = errorOf(() => loadScenarioFile(p));
    expect(err.message).toContain(p);
  });

  it('npm run sim exits with the bad field on stderr', async () => {
    const { spawnSync } = await import('node:child_process');
    const p = file('bad-cli.yaml', validYaml.replace('throughputMps: 200', 'throughputMps: 0'));
    const r = spawnSync(process.execPath, ['--import', 'tsx', join(__dirname, '../src/main.ts')], {
      env: { ...process.env, SIM_SCENARIO: p, SIM_PORT: '0' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('businesses[0].wabas[0].phoneNumbers[0].throughputMps');
  });
});
