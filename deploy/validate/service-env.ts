import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { z } from 'zod';
import { describeEnv } from '@wa/shared/config';

export const SERVICES = ['ingest', 'dispatcher', 'webhook', 'analytics'] as const;
export type ServiceName = (typeof SERVICES)[number];

/** HTTP port of each service (ops endpoints included), the same in compose and Kubernetes. */
export const SERVICE_PORTS: Readonly<Record<ServiceName, number>> = { ingest: 8081, dispatcher: 8082, webhook: 8083, analytics: 8084 };

/**
 * A Deployment (Kubernetes) or compose service: one service's entrypoint in one role. The webhook
 * service runs twice from the same image — the receiver and the normaliser — so Meta's acks never
 * wait behind normaliser batches (docs/deploy.md).
 */
export interface Workload {
  name: string;
  service: ServiceName;
  /** Consumes Kafka partitions: its replica ceiling is the partition count. */
  consumer: boolean;
  /** Meta reaches it from the internet. */
  public: boolean;
  /** Talks to Redis (egress and start order). */
  redis: boolean;
  /** Values that fix its role; the manifests must set them exactly. */
  roleEnv: Readonly<Record<string, string>>;
}

export const WORKLOADS: readonly Workload[] = [
  { name: 'ingest', service: 'ingest', consumer: true, public: false, redis: true, roleEnv: {} },
  { name: 'dispatcher', service: 'dispatcher', consumer: true, public: false, redis: true, roleEnv: {} },
  { name: 'webhook', service: 'webhook', consumer: false, public: true, redis: false, roleEnv: { NORMALISER_ENABLED: 'false' } },
  { name: 'webhook-normaliser', service: 'webhook', consumer: true, public: false, redis: true, roleEnv: { WEBHOOK_RECEIVER_ENABLED: 'false' } },
  { name: 'analytics', service: 'analytics', consumer: true, public: false, redis: false, roleEnv: {} },
];

/** Problems of a workload's role variables as its manifest sets them. */
export function checkRoleEnv(where: string, workload: Workload, provided: ReadonlyMap<string, { value?: string }>): string[] {
  return Object.entries(workload.roleEnv)
    .filter(([name, value]) => provided.get(name)?.value !== value)
    .map(
      ([name, value]) =>
        `${where}: ${name} must be "${value}" (got ${JSON.stringify(provided.get(name)?.value ?? null)}): the ${workload.name} role depends on it`,
    );
}

/** Variables the runtime reads itself, outside the services' schemas. */
export const RUNTIME_ENV = new Set(['NODE_OPTIONS']);

/** A variable whose value is a credential: it must come from a Secret, never from plain config. */
export function isSecretName(name: string): boolean {
  return /TOKEN|SECRET|SALT|PASSWORD/.test(name);
}

export interface ServiceEnvSpec {
  service: ServiceName;
  known: ReadonlySet<string>;
  required: readonly string[];
  /** Defaults of the schema's variables, e.g. consumer group names. */
  defaults: ReadonlyMap<string, string>;
}

/**
 * Reads each service's env schema (`<service>EnvSchema` in services/<service>/src/config.ts), so
 * deployment manifests are checked against the variables the code really parses. A service whose
 * config.ts does not exist yet is reported in `missing`.
 */
export async function loadServiceEnvSpecs(root: string): Promise<{ specs: Map<ServiceName, ServiceEnvSpec>; missing: ServiceName[] }> {
  const specs = new Map<ServiceName, ServiceEnvSpec>();
  const missing: ServiceName[] = [];
  for (const service of SERVICES) {
    const file = join(root, 'services', service, 'src', 'config.ts');
    if (!existsSync(file)) {
      missing.push(service);
      continue;
    }
    const mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    const schema = mod[`${service}EnvSchema`] as z.ZodObject | undefined;
    if (!schema || typeof schema !== 'object' || !('shape' in schema)) throw new Error(`${file}: exports no ${service}EnvSchema`);
    const vars = describeEnv(schema);
    specs.set(service, {
      service,
      known: new Set(vars.map((v) => v.name)),
      required: vars.filter((v) => v.required).map((v) => v.name),
      defaults: new Map(vars.flatMap((v) => (v.default === undefined ? [] : [[v.name, v.default] as const]))),
    });
  }
  return { specs, missing };
}

/** Problems of one service's environment as a deployment provides it. */
export function checkServiceEnv(where: string, spec: ServiceEnvSpec, provided: ReadonlyMap<string, { fromSecret: boolean }>): string[] {
  const problems: string[] = [];
  for (const name of spec.required) {
    if (!provided.has(name)) problems.push(`${where}: required variable ${name} is not set`);
  }
  for (const [name, source] of provided) {
    if (!spec.known.has(name) && !RUNTIME_ENV.has(name))
      problems.push(`${where}: ${name} is not a variable of the ${spec.service} config schema (typo or stale?)`);
    if (isSecretName(name) && !source.fromSecret) problems.push(`${where}: ${name} is a credential but does not come from a Secret`);
  }
  return problems;
}
