import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { ScenarioInput } from '@wa/cloud-api-sim';
import { raiseToRealtime } from '@wa/cloud-api-sim/realtime-priority';
import type { Catalog } from '@wa/shared/catalog';
import type { SimStats } from './harness';

/**
 * Child processes for tests and the benchmark: the simulator and dispatchers each get their own
 * event loop (and OS scheduling), as in production, so a stall in one does not bunch the other's
 * requests or arrivals. Logs go to files in a temporary directory, named in failures.
 */

export const REPO_ROOT = resolve(import.meta.dirname, '../../../..');

export function tempDir(prefix: string): string {
  return mkdtempSync(join(tmpdir(), `${prefix}-`));
}

export async function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const srv = createServer();
    srv.once('error', rej);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => res(port));
    });
  });
}

export interface Child {
  readonly name: string;
  readonly url: string;
  readonly logFile: string;
  readonly proc: ChildProcess;
  readonly exited: Promise<number | null>;
  /** kill -9: no shutdown hooks run. */
  kill9(): Promise<void>;
  /** SIGTERM (graceful), SIGKILL after the grace period. */
  stop(graceMs?: number): Promise<void>;
}

function spawnTs(
  name: string,
  entry: string,
  env: Record<string, string>,
  url: string,
  readyPath: string,
  logDir: string,
  nodeArgs: string[] = [],
): Promise<Child> {
  const logFile = join(logDir, `${name}.log`);
  const log = createWriteStream(logFile, { flags: 'a' });
  const proc = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', join(REPO_ROOT, entry)], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  proc.stdout?.pipe(log, { end: false });
  proc.stderr?.pipe(log, { end: false });
  const exited = new Promise<number | null>((res) => proc.once('exit', (code) => (log.end(), res(code))));
  let dead = false;
  void exited.then(() => (dead = true));
  const child: Child = {
    name,
    url,
    logFile,
    proc,
    exited,
    async kill9() {
      if (!dead) proc.kill('SIGKILL');
      await exited;
    },
    async stop(graceMs = 15_000) {
      if (dead) return;
      proc.kill('SIGTERM');
      const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
      await exited;
      clearTimeout(t);
    },
  };
  return (async () => {
    const deadline = Date.now() + 60_000;
    let last = '';
    while (Date.now() < deadline) {
      if (dead) throw new Error(`${name} exited during start-up; see ${logFile}`);
      try {
        const res = await fetch(url + readyPath, { signal: AbortSignal.timeout(1_000) });
        if (res.ok) return child;
        last = `HTTP ${res.status}`;
      } catch (err) {
        last = (err as Error).message;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await child.kill9();
    throw new Error(`${name} not ready (${last}); see ${logFile}`);
  })();
}

let warnedNormalPriority = false;

export interface SimProcess extends Child {
  /** Whether it runs with real-time scheduling (see raiseToRealtime). */
  readonly realtimePriority: boolean;
  stats(): Promise<SimStats>;
  event(body: Record<string, unknown> & { type: string }): Promise<void>;
}

/** `node --import tsx tools/cloud-api-sim/src/main.ts` with the scenario written to a file. */
export async function spawnSim(scenario: ScenarioInput, logDir: string): Promise<SimProcess> {
  const port = await freePort();
  const scenarioFile = join(logDir, `scenario-${port}.json`);
  writeFileSync(scenarioFile, JSON.stringify(scenario));
  const url = `http://127.0.0.1:${port}`;
  const child = await spawnTs(
    'sim',
    'tools/cloud-api-sim/src/main.ts',
    { SIM_PORT: String(port), SIM_SCENARIO: scenarioFile },
    url,
    '/_sim/stats',
    logDir,
    (process.env.SIM_NODE_ARGS ?? '').split(' ').filter(Boolean),
  );
  // Meta's servers do not share our CPUs: see raiseToRealtime.
  const priority = raiseToRealtime(child.proc.pid!);
  if (!priority.raised && !warnedNormalPriority) {
    warnedNormalPriority = true;
    console.warn(`cloud-api-sim runs at normal priority (${priority.reason}): on a busy machine its late arrival stamps can cause 130429s Meta would not send`);
  }
  return {
    ...child,
    realtimePriority: priority.raised,
    async stats() {
      const res = await fetch(`${url}/_sim/stats`);
      return (await res.json()) as SimStats;
    },
    async event(body) {
      const { type, ...rest } = body;
      const res = await fetch(`${url}/_sim/events/${type}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(rest) });
      if (!res.ok) throw new Error(`sim event ${type}: HTTP ${res.status} ${await res.text()}`);
    },
  };
}

/** `node --import tsx services/dispatcher/src/main.ts` with the catalogue written to a file. */
/** `nodeArgs`: extra V8/node flags (e.g. --cpu-prof), which NODE_OPTIONS does not all accept. */
export async function spawnDispatcher(name: string, env: Record<string, string>, catalog: Catalog, logDir: string, nodeArgs: string[] = []): Promise<Child> {
  const port = await freePort();
  const catalogFile = join(logDir, `catalog-${name}.json`);
  writeFileSync(catalogFile, JSON.stringify(catalog));
  const url = `http://127.0.0.1:${port}`;
  return spawnTs(
    name,
    'services/dispatcher/src/main.ts',
    { LOG_LEVEL: 'info', ...env, HTTP_PORT: String(port), CATALOG_PATH: catalogFile },
    url,
    '/readyz',
    logDir,
    nodeArgs,
  );
}
