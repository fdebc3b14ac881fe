import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { isSecretName } from '../../deploy/validate/service-env';

const root = join(import.meta.dirname, '../..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, { environment?: Record<string, string>; ports?: string[] }>;
};
const example = readFileSync(join(root, '.env.example'), 'utf8');

describe('docker-compose.yml: local exposure and secrets', () => {
  it('binds every published port to 127.0.0.1', () => {
    const open = Object.entries(compose.services).flatMap(([name, s]) =>
      (s.ports ?? []).filter((p) => !String(p).startsWith('127.0.0.1:')).map((p) => `${name} ${p}`),
    );
    expect(open).toEqual([]);
  });

  it('requires every secret from the environment (${VAR:?message}), with no default, each documented in .env.example', () => {
    const problems: string[] = [];
    const required = new Set<string>();
    for (const [name, s] of Object.entries(compose.services)) {
      for (const [k, v] of Object.entries(s.environment ?? {})) {
        if (!isSecretName(k) && k !== 'WA_ACCESS_TOKENS') continue;
        const m = /^\$\{([A-Z0-9_]+):\?[^}]+\}$/.exec(String(v));
        if (!m) problems.push(`${name} ${k}=${v}`);
        else required.add(m[1]!);
      }
    }
    expect(problems).toEqual([]);
    for (const v of [
      'INGEST_API_TOKEN',
      'ADMIN_TOKEN',
      'RECIPIENT_HASH_SALT',
      'WEBHOOK_APP_SECRETS',
      'WEBHOOK_VERIFY_TOKEN',
      'WA_ACCESS_TOKENS',
      'CLICKHOUSE_PASSWORD',
      'GRAFANA_ADMIN_PASSWORD',
    ])
      expect(required).toContain(v);
    for (const v of required) expect(example, v).toMatch(new RegExp(`^${v}=$`, 'm'));
  });
});
