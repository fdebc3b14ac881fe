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
