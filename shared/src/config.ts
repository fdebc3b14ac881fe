import { z } from 'zod';

/** Thrown at start-up when the environment does not satisfy a service's schema; lists every problem at once. */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/**
 * Parses the environment once with a zod object schema whose keys are variable names, and freezes
 * the result. This is the only place in the code base that reads `process.env`.
 */
export function loadConfig<S extends z.ZodObject>(schema: S, env: Record<string, string | undefined> = process.env): Readonly<z.output<S>> {
  const result = schema.safeParse(env);
  if (!result.success) {
    const problems = result.error.issues.map((issue) => {
      const variable = issue.path.join('.') || '(environment)';
      const value = env[String(issue.path[0])];
      const got = value === undefined ? 'missing' : `got ${JSON.stringify(redactConfigValue(String(issue.path[0]), value))}`;
      return `${variable}: ${issue.message} (${got})`;
    });
    throw new ConfigError(problems);
  }
  return Object.freeze(result.data);
}

function redactConfigValue(name: string, value: string): string {
  return /SECRET|TOKEN|PASSWORD|KEY|SALT/i.test(name) ? '[redacted]' : value.slice(0, 80);
}

/** Building blocks for service schemas: each variable documents itself through `.describe()`. */
export const env = {
  string: (description: string) => z.string().min(1).describe(description),
  optionalString: (description: string) => z.string().min(1).optional().describe(description),
  /** A required secret key of at least `minBytes` bytes (UTF-8), e.g. an HMAC key. */
  secretKey: (description: string, minBytes = 32) =>
    z
      .string({ error: 'required' })
      .refine((v) => Buffer.byteLength(v) >= minBytes, `must be at least ${minBytes} bytes of random data (e.g. \`openssl rand -base64 32\`)`)
      .describe(description),
  int: (description: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER) =>
    z.coerce.number().int().min(min).max(max).default(def).describe(description),
  number: (description: string, def: number, min = 0, max = Number.MAX_SAFE_INTEGER) => z.coerce.number().min(min).max(max).default(def).describe(description),
  bool: (description: string, def: boolean) =>
    z
      .enum(['true', 'false', '1', '0', 'yes', 'no'])
      .default(def ? 'true' : 'false')
      .transform((v) => v === 'true' || v === '1' || v === 'yes')
      .describe(description),
  list: (description: string, def: string) =>
    z
      .string()
      .default(def)
      .transform((v) =>
        v
          .split(',')
          .map((s) => s.trim())
          .filter(Boolean),
      )
      .describe(description),
  url: (description: string, def?: string) => (def === undefined ? z.url().describe(description) : z.url().default(def).describe(description)),
  logLevel: () => z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info').describe('pino log level'),
};

/** Variables every service shares. */
export const commonEnv = {
  LOG_LEVEL: env.logLevel(),
  KAFKA_BROKERS: env.list('comma-separated Kafka bootstrap servers', '127.0.0.1:9092'),
  KAFKA_CLIENT_ID: env.optionalString('Kafka client id (defaults to the service name)'),
  TOPIC_PREFIX: z.string().default('').describe('prefix for every topic name (isolates environments and test runs)'),
  GROUP_PREFIX: z
    .string()
    .optional()
    .describe("prefix for every Kafka consumer group id (default: TOPIC_PREFIX, so environments sharing a cluster never join each other's groups)"),
  REDIS_URL: env.url('Redis connection URL', 'redis://127.0.0.1:6379'),
  REDIS_KEY_PREFIX: z.string().default('').describe('prefix for every Redis key (isolates environments and test runs)'),
  SHUTDOWN_TIMEOUT_MS: env.int('upper bound for graceful shutdown; keep below the pod termination grace period', 25_000, 1_000),
};

/** Describes a schema's variables (name, default, description) for the README's configuration table. */
export function describeEnv(schema: z.ZodObject): { name: string; required: boolean; default?: string; description: string }[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const f = field as z.ZodType;
    const description = f.description ?? '';
    const def = readDefault(f);
    const required = !f.safeParse(undefined).success;
    return def === undefined ? { name, required, description } : { name, required, default: def, description };
  });
}

function readDefault(field: z.ZodType): string | undefined {
  const parsed = field.safeParse(undefined);
  if (!parsed.success || parsed.data === undefined) return undefined;
  const value = parsed.data as unknown;
  if (Array.isArray(value)) return value.join(',');
  return String(value);
}
