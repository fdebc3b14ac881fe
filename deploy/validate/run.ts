import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse } from 'yaml';
import { catalogSchema } from '@wa/shared/catalog';
import { COMPOSE_SIM_DEFAULTS, composeSimScenario } from '../../scripts/gen-compose-sim-scenario';
import { checkComposePolicies, checkDockerfile, composeConfig, findComposeCommand, readRawCompose, validateComposeSchema, type ComposeFile } from './compose';
import { checkK8sPolicies } from './k8s-policies';
import { checkUnknownFields, parseManifests, renderKustomization, validateAgainstSchemas, type K8sObject } from './k8s-schema';
import { loadServiceEnvSpecs } from './service-env';

/**
 * The `sim` profile works only if the simulator's world agrees with compose's local defaults: the
 * scenario file must be the current derivation of the catalogue, signed with the app secret the
 * webhook verifies, with the access tokens the dispatcher sends.
 */
export function checkSimWiring(root: string, resolved: ComposeFile): string[] {
  const problems: string[] = [];
  const file = join(root, COMPOSE_SIM_DEFAULTS.out);
  if (!existsSync(file)) return [`${COMPOSE_SIM_DEFAULTS.out} is missing: run \`npm run deploy:sim-scenario\``];
  const current = composeSimScenario({
    catalog: join(root, COMPOSE_SIM_DEFAULTS.catalog),
    appSecret: COMPOSE_SIM_DEFAULTS.appSecret,
    accessTokens: COMPOSE_SIM_DEFAULTS.accessTokens,
  });
  if (readFileSync(file, 'utf8') !== current)
    problems.push(`${COMPOSE_SIM_DEFAULTS.out} is stale (catalogue or simulator changed): run \`npm run deploy:sim-scenario\``);
  const env = (svc: string) => (resolved.services[svc]?.environment ?? {}) as Record<string, string>;
  if (
    !String(env('webhook').WEBHOOK_APP_SECRETS ?? '')
      .split(',')
      .some((e) => e.endsWith(`=${COMPOSE_SIM_DEFAULTS.appSecret}`))
  ) {
    problems.push("compose webhook: the default WEBHOOK_APP_SECRETS does not verify the simulator's signatures");
  }
  if (env('dispatcher').WA_ACCESS_TOKENS !== COMPOSE_SIM_DEFAULTS.accessTokens)
    problems.push("compose dispatcher: the default WA_ACCESS_TOKENS are not the simulator's tokens");
  const catalogMount = (resolved.services.dispatcher?.volumes ?? [])
    .map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`))
    .find((m) => m.includes('/etc/wa/catalog.json'));
  if (!catalogMount?.includes(COMPOSE_SIM_DEFAULTS.catalog))
    problems.push(`compose dispatcher: the default catalogue mount is not ${COMPOSE_SIM_DEFAULTS.catalog}`);
  return problems;
}

export const OVERLAYS = ['staging', 'production', 'production-keda'] as const;

export interface CheckResult {
  name: string;
  problems: string[];
  detail: string;
  ms: number;
}

export interface DeployReport {
  tools: { kubectl?: string; compose?: string };
  checks: CheckResult[];
  rendered: Record<string, K8sObject[]>;
  ok: boolean;
}

async function timed(name: string, fn: () => Promise<{ problems: string[]; detail: string }>): Promise<CheckResult> {
  const started = performance.now();
  try {
    const { problems, detail } = await fn();
    return { name, problems, detail, ms: Math.round(performance.now() - started) };
  } catch (err) {
    return {
      name,
      problems: [`${name}: ${(err as Error).message.split('\n').slice(0, 5).join(' ')}`],
      detail: 'failed to run',
      ms: Math.round(performance.now() - started),
    };
  }
}

/**
 * Every deployment check that runs without a container engine or a cluster: kustomize rendering of
 * each overlay, Kubernetes schema validation (plus unknown fields), deployment policies, the
 * compose file through a real compose implementation and the compose-spec schema, the Dockerfile.
 */
export async function validateDeploy(root: string): Promise<DeployReport> {
  const checks: CheckResult[] = [];
  const rendered: Record<string, K8sObject[]> = {};
  const tools: DeployReport['tools'] = {};
  const { specs: envSpecs, missing } = await loadServiceEnvSpecs(root);

  checks.push(
    await timed('service config schemas', async () => ({
      problems: missing.map((s) => `services/${s}/src/config.ts does not exist: its environment cannot be checked`),
      detail: `${envSpecs.size} service env schemas loaded (${[...envSpecs.keys()].join(', ')})`,
    })),
  );

  const secretFile = join(root, 'deploy/k8s/examples/secret.example.yaml');
  const secretObjects = parseManifests(readFileSync(secretFile, 'utf8'));
  const documentedSecretKeys = new Set(Object.keys((secretObjects[0] as unknown as { stringData?: Record<string, string> })?.stringData ?? {}));
  checks.push(
    await timed('example Secret', async () => ({
      problems: await validateAgainstSchemas(secretObjects),
      detail: `${documentedSecretKeys.size} keys documented`,
    })),
  );

  const alertsFile = join(root, 'deploy/prometheus/alerts.yml');
  const alertGroups = existsSync(alertsFile) ? (parse(readFileSync(alertsFile, 'utf8')) as { groups?: unknown[] } | null)?.groups : undefined;

  for (const overlay of OVERLAYS) {
    checks.push(
      await timed(`k8s ${overlay}`, async () => {
        const { objects } = await renderKustomization(join(root, 'deploy/k8s/overlays', overlay));
        rendered[overlay] = objects;
        const problems = [
          ...(await validateAgainstSchemas(objects)),
          ...(await checkUnknownFields(objects, join(root, '.cache/deploy-validate', overlay), root)),
          ...checkK8sPolicies(objects, { envSpecs, documentedSecretKeys, alertGroups }),
        ];
        for (const cm of objects.filter((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('wa-catalog'))) {
          const text = (cm as unknown as { data?: Record<string, string> }).data?.['catalog.json'] ?? '';
          const parsed = catalogSchema.safeParse(JSON.parse(text));
          if (!parsed.success)
            problems.push(`ConfigMap/${cm.metadata.name}: catalog.json does not satisfy the catalog schema: ${parsed.error.issues[0]?.message}`);
        }
        const kinds = new Map<string, number>();
        for (const o of objects) kinds.set(o.kind, (kinds.get(o.kind) ?? 0) + 1);
        return {
          problems: problems.map((p) => `${overlay}: ${p}`),
          detail: `${objects.length} objects: ${[...kinds].map(([k, n]) => `${n} ${k}`).join(', ')}`,
        };
      }),
    );
  }
  try {
    const { execFileSync } = await import('node:child_process');
    tools.kubectl = execFileSync('kubectl', ['version', '--client'], { encoding: 'utf8' }).trim().split('\n').join('; ');
  } catch {
    // reported by the render checks
  }

  const composeFile = join(root, 'docker-compose.yml');
  checks.push(
    await timed('docker-compose.yml', async () => {
      const cmd = await findComposeCommand();
      if (!cmd) return { problems: ['no compose implementation: install the docker compose plugin or docker-compose'], detail: '' };
      tools.compose = `${cmd.command} ${cmd.args.join(' ')} (${cmd.version})`.replace('  ', ' ');
      const resolved = await composeConfig(composeFile, cmd);
      const raw = readRawCompose(composeFile);
      const problems = [...validateComposeSchema(raw.value), ...checkComposePolicies(resolved, raw.value, root, envSpecs), ...checkSimWiring(root, resolved)];
      return {
        problems,
        detail: `${Object.keys(resolved.services).length} services resolved by ${cmd.command} ${cmd.args.join(' ')} config; compose-spec schema`,
      };
    }),
  );
  checks.push(
    await timed('prometheus.yml', async () => {
      // promtool resolves rule_files on this machine: point the container path at the repo's file.
      const { execFile } = await import('node:child_process');
      const { promisify } = await import('node:util');
      const { mkdirSync, writeFileSync } = await import('node:fs');
      const dir = join(root, '.cache/deploy-validate/prometheus');
      mkdirSync(dir, { recursive: true });
      const config = readFileSync(join(root, 'deploy/prometheus/prometheus.yml'), 'utf8').replaceAll(
        '/etc/prometheus/alerts.yml',
        join(root, 'deploy/prometheus/alerts.yml'),
      );
      writeFileSync(join(dir, 'prometheus.yml'), config);
      try {
        const { stdout } = await promisify(execFile)('promtool', ['check', 'config', join(dir, 'prometheus.yml')]);
        return {
          problems: [],
          detail: `promtool check config: ${
            stdout
              .trim()
              .split('\n')
              .filter((l) => l.includes('SUCCESS')).length
          } file(s) SUCCESS (config + rules)`,
        };
      } catch (err) {
        const e = err as { code?: string; stdout?: string; stderr?: string };
        if (e.code === 'ENOENT') return { problems: [], detail: 'skipped: promtool not installed (apt-get install prometheus)' };
        return { problems: [`promtool check config: ${(e.stderr || e.stdout || '').trim().split('\n').join(' ')}`], detail: '' };
      }
    }),
  );
  checks.push(await timed('Dockerfile', async () => ({ problems: checkDockerfile(root), detail: 'workspaces, base image, non-root user, entrypoint' })));

  return { tools, checks, rendered, ok: checks.every((c) => c.problems.length === 0) };
}
