import { chmodSync, readFileSync, writeFileSync } from 'node:fs';
import { resolve } from 'node:path';

/**
 * The connection settings `npm start` writes for the CLI (`.data/local/env`, mode 0600): one
 * `NAME=value` per line, `#` comments. The CLI reads it unless the environment says otherwise.
 */
export const DEFAULT_ENV_FILE = resolve(import.meta.dirname, '../../../.data/local/env');

/** Each service's URL variable and the token that goes with it: a token is only used with its own URL. */
const TOKEN_OF_URL: Readonly<Record<string, string>> = {
  INGEST_URL: 'INGEST_API_TOKEN',
  DISPATCHER_URL: 'ADMIN_TOKEN',
  GRAPH_API_BASE_URL: 'WA_ACCESS_TOKENS',
};

export function formatEnvFile(vars: Readonly<Record<string, string>>, header: readonly string[]): string {
  for (const [name, value] of Object.entries(vars)) {
    if (!/^[A-Z][A-Z0-9_]*$/.test(name) || /[\r\n]/.test(value)) throw new Error(`cannot write ${name} to an env file`);
  }
  return [...header.map((l) => `# ${l}`), ...Object.entries(vars).map(([k, v]) => `${k}=${v}`), ''].join('\n');
}

export function parseEnvFile(text: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const trimmed = line.trim();
    if (!trimmed || trimmed.startsWith('#')) continue;
    const eq = trimmed.indexOf('=');
    if (eq <= 0) continue;
    vars[trimmed.slice(0, eq).trim()] = trimmed.slice(eq + 1).trim();
  }
  return vars;
}

/** Writes the file readable by its owner only (also when it existed with wider permissions). */
export function writeEnvFile(path: string, vars: Readonly<Record<string, string>>, header: readonly string[]): void {
  writeFileSync(path, formatEnvFile(vars, header), { mode: 0o600 });
  chmodSync(path, 0o600);
}

/**
 * The environment the CLI runs with: the caller's variables win; the file fills the rest. A token
 * from the file is dropped when the caller points its service's URL elsewhere (it belongs to the
 * local stack, not to that server). `WA_ENV_FILE` names another file; `WA_ENV_FILE=` (empty) reads none.
 */
export function mergeEnvFile(env: Readonly<Record<string, string | undefined>>, file: Readonly<Record<string, string>>): Record<string, string | undefined> {
  const merged: Record<string, string | undefined> = { ...env };
  for (const [name, value] of Object.entries(file)) {
    if (merged[name] !== undefined) continue;
    const url = Object.entries(TOKEN_OF_URL).find(([, token]) => token === name)?.[0];
    if (url && env[url] !== undefined && env[url] !== file[url]) continue;
    merged[name] = value;
  }
  return merged;
}

/** Reads the env file for the CLI: which one was used (for messages) and the merged environment. */
export function loadCliEnvironment(env: Readonly<Record<string, string | undefined>>): { file: string | null; env: Record<string, string | undefined> } {
  const path = env.WA_ENV_FILE === undefined ? DEFAULT_ENV_FILE : env.WA_ENV_FILE;
  if (!path) return { file: null, env: { ...env } };
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT' && env.WA_ENV_FILE === undefined) return { file: null, env: { ...env } };
    throw new Error(`cannot read WA_ENV_FILE ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
  return { file: path, env: mergeEnvFile(env, parseEnvFile(text)) };
}
