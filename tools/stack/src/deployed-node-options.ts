import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';

/** The ConfigMap of deploy/k8s/base that carries each service's settings. */
export type DeployedService = 'ingest' | 'dispatcher' | 'webhook' | 'analytics';

interface Kustomization {
  configMapGenerator?: { name?: string; literals?: string[] }[];
}

/**
 * The V8 flags deploy/k8s gives a service (`NODE_OPTIONS` in its `wa-<service>` ConfigMap), so that
 * `npm start`, the end-to-end benchmark and bench:dispatch run each service with the heap it is
 * deployed with: the young generation's size alone moved the dispatcher's CPU per send by ~15 %
 * (docs/dispatcher.md). One source, read where it is maintained, instead of copies that drift.
 * Returns '' when the ConfigMap sets none.
 */
export function deployedNodeOptions(root: string, service: DeployedService): string {
  const file = join(root, 'deploy/k8s/base/kustomization.yaml');
  const kustomization = parse(readFileSync(file, 'utf8')) as Kustomization;
  const configMap = kustomization.configMapGenerator?.find((c) => c.name === `wa-${service}`);
  if (!configMap) throw new Error(`${file} has no ConfigMap wa-${service}`);
  const literal = configMap.literals?.find((l) => l.startsWith('NODE_OPTIONS='));
  return literal ? literal.slice('NODE_OPTIONS='.length).trim() : '';
}

/**
 * The node flags of the image's ENTRYPOINT (Dockerfile: `node <flags> --import tsx`), which Node accepts only as
 * arguments, not in NODE_OPTIONS (e.g. --single-threaded-gc). The stack, the drills and the benchmarks start every
 * service with them, as the image does; `WA_IMAGE_NODE_ARGS` replaces them ('none' to compare without).
 */
export function imageNodeArgs(root: string, env: NodeJS.ProcessEnv = process.env): string[] {
  // 'none' rather than '': npm run drops variables set to the empty string.
  if (env.WA_IMAGE_NODE_ARGS) return env.WA_IMAGE_NODE_ARGS === 'none' ? [] : env.WA_IMAGE_NODE_ARGS.split(' ').filter(Boolean);
  const dockerfile = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const line = /^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile);
  if (!line) throw new Error('Dockerfile has no ENTRYPOINT in exec form');
  const argv = JSON.parse(line[1]!) as string[];
  const end = argv.indexOf('--import');
  if (argv[0] !== 'node' || end < 0) throw new Error(`Dockerfile ENTRYPOINT is not "node <flags> --import tsx": ${line[1]}`);
  return argv.slice(1, end);
}
