import { mkdtempSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadCliEnvironment, mergeEnvFile, parseEnvFile, writeEnvFile } from '../src/env-file';

describe('the CLI env file', () => {
  it('is written readable by its owner only, also over a wider existing file, and reads back', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'wa-env-')), 'env');
    writeFileSync(path, 'old');
    chmodSync(path, 0o644);
    writeEnvFile(path, { INGEST_URL: 'http://127.0.0.1:8081', INGEST_API_TOKEN: 'a=b', TOPIC_PREFIX: '' }, ['written by a test']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(loadCliEnvironment({ WA_ENV_FILE: path }).env).toMatchObject({ INGEST_URL: 'http://127.0.0.1:8081', INGEST_API_TOKEN: 'a=b', TOPIC_PREFIX: '' });
  });

  it('refuses names and values that would not read back', () => {
    const path = join(mkdtempSync(join(tmpdir(), 'wa-env-')), 'env');
    expect(() => writeEnvFile(path, { 'bad name': 'x' }, [])).toThrow(/bad name/);
    expect(() => writeEnvFile(path, { TOKEN: 'a\nB=c' }, [])).toThrow(/TOKEN/);
  });

  it('lets the environment win and keeps a token away from a URL the caller changed', () => {
    const file = parseEnvFile('# c\nINGEST_URL=http://127.0.0.1:8081\nINGEST_API_TOKEN=local\nADMIN_TOKEN=adm\nANALYTICS_URL=http://127.0.0.1:8084\n');
    const merged = mergeEnvFile({ INGEST_URL: 'https://ingest.example.com', ANALYTICS_URL: 'http://a:1' }, file);
    expect(merged.INGEST_URL).toBe('https://ingest.example.com');
    expect(merged.INGEST_API_TOKEN).toBeUndefined();
    expect(merged.ADMIN_TOKEN).toBe('adm');
    expect(merged.ANALYTICS_URL).toBe('http://a:1');
    expect(mergeEnvFile({ INGEST_URL: 'http://127.0.0.1:8081' }, file).INGEST_API_TOKEN).toBe('local');
  });

  it('reads no file when WA_ENV_FILE is empty, and names a missing WA_ENV_FILE', () => {
    expect(loadCliEnvironment({ WA_ENV_FILE: '' }).file).toBeNull();
    expect(() => loadCliEnvironment({ WA_ENV_FILE: '/nonexistent/env' })).toThrow(/WA_ENV_FILE \/nonexistent\/env.*ENOENT/);
  });
});
