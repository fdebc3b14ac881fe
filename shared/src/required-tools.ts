import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';

/**
 * Tests that need an optional system tool (kcat, Chromium, promtool, kubectl, docker-compose, chrt) say so
 * with `requireTool`: on a machine without the tool they are skipped and `npm test` names the tool
 * and how to install it; under REQUIRE_ALL_TOOLS=1 (CI) a missing tool fails the test file instead.
 *
 *   const kcat = requireTool({ name: 'kcat', probe: [['kcat', '-V']], install: 'apt-get install kcat' });
 *   describe('kcat against the broker', kcat.options, () => { … });
 *
 * Nothing here imports a test runner: `options` is the options argument of vitest's describe/it.
 */

export interface ToolRequirement {
  /** What the tool is called in messages ("docker-compose"). */
  readonly name: string;
  /** Commands tried in turn (argv); the tool is there if one of them exits 0. */
  readonly probe: readonly (readonly [string, ...string[]])[];
  /** How to get it, e.g. "apt-get install docker-compose". */
  readonly install: string;
}

/** Metadata vitest hands to reporters; scripts/tool-skips-reporter.ts counts the skips by it. */
export interface MissingToolMeta {
  readonly missingTool: string;
}

export interface RequiredTool {
  readonly name: string;
  readonly available: boolean;
  /** "docker-compose not found — `apt-get install docker-compose`" */
  readonly reason: string;
  /**
   * Pass as describe/it options: skips the suite or test when the tool is missing. `meta` (a
   * MissingToolMeta) is typed `object` because vitest's TaskMeta is an empty interface.
   */
  readonly options: { skip: boolean; meta?: object };
}

export type ProbeRunner = (argv: readonly [string, ...string[]]) => boolean;

const runProbe: ProbeRunner = ([command, ...args]) => spawnSync(command, args, { stdio: 'ignore', timeout: 20_000 }).status === 0;

export class MissingToolError extends Error {
  override readonly name = 'MissingToolError';
}

/**
 * Probes for a tool once (at test-file load). Missing: tests skip, unless `env.REQUIRE_ALL_TOOLS`
 * is "1", in which case this throws so the whole file fails with the tool's name.
 */
export function requireTool(
  tool: ToolRequirement,
  env: Readonly<Record<string, string | undefined>> = process.env,
  probe: ProbeRunner = runProbe,
): RequiredTool {
  const reason = `${tool.name} not found — \`${tool.install}\``;
  const available = tool.probe.some((argv) => probe(argv));
  if (available) return { name: tool.name, available, reason, options: { skip: false } };
  if (env.REQUIRE_ALL_TOOLS === '1') throw new MissingToolError(`${reason} (REQUIRE_ALL_TOOLS=1: tests may not skip for a missing tool)`);
  const meta: MissingToolMeta = { missingTool: reason };
  return { name: tool.name, available, reason, options: { skip: true, meta } };
}

/** The absolute path of `command` on PATH (for APIs that want a file, such as a browser's executablePath). */
export function findOnPath(command: string, env: Readonly<Record<string, string | undefined>> = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const file = join(dir, command);
    try {
      accessSync(file, constants.X_OK);
      return file;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** The optional tools the test suite uses, with the Debian package that provides each. */
export const TOOLS = {
  kcat: { name: 'kcat', probe: [['kcat', '-V']], install: 'apt-get install kcat' },
  chromium: { name: 'chromium', probe: [['chromium', '--version']], install: 'apt-get install chromium' },
  promtool: { name: 'promtool', probe: [['promtool', '--version']], install: 'apt-get install prometheus' },
  chrt: { name: 'chrt', probe: [['chrt', '--version']], install: 'apt-get install util-linux' },
  kubectl: { name: 'kubectl', probe: [['kubectl', 'kustomize', '--help']], install: 'apt-get install kubectl' },
  compose: {
    name: 'docker-compose',
    probe: [
      ['docker', 'compose', 'version'],
      ['docker-compose', 'version'],
    ],
    install: 'apt-get install docker-compose',
  },
} as const satisfies Record<string, ToolRequirement>;

/** One summary line per missing tool: "skipped 4: docker-compose not found — `apt-get install docker-compose`". */
export function summarizeToolSkips(skippedReasons: Iterable<string>): string[] {
  const counts = new Map<string, number>();
  for (const reason of skippedReasons) counts.set(reason, (counts.get(reason) ?? 0) + 1);
  return [...counts].sort(([a], [b]) => a.localeCompare(b)).map(([reason, n]) => `skipped ${n}: ${reason}`);
}
