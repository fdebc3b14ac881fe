import { randomBytes } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { raiseToRealtime } from '@wa/cloud-api-sim/realtime-priority';
import { loadCatalogFile, type Catalog } from '@wa/shared';
import { deployedNodeOptions, type DeployedService } from './deployed-node-options';
import { isPortFree, freePorts } from './ports';
import { runCommand, startProcess, stopProcess, waitReady, type ManagedProcess, type ProcessSpec } from './processes';
import { scenarioFromCatalog, type SimTuning } from './scenario-from-catalog';

export const DEFAULT_PORTS = { ingest: 8081, dispatcher: 8082, webhook: 8083, analytics: 8084, sim: 8090 } as const;
export type ServiceName = keyof typeof DEFAULT_PORTS;

export interface StackOptions {
  root: string;
  catalogPath: string;
  /** Where logs, generated scenario and embedded ClickHouse data go. */
  dataDir: string;
  kafkaBrokers?: string | undefined;
  redisUrl?: string | undefined;
  clickhouseUrl?: string | undefined;
  topicPrefix?: string;
  redisKeyPrefix?: string;
  /** Fixed ports, or 'free' to let the OS pick (benchmarks and drills). Default: DEFAULT_PORTS. */
  ports?: Partial<Record<ServiceName, number>> | 'free';
  sim?: Partial<Omit<SimTuning, 'appSecret' | 'accessTokens'>>;
  /** Extra environment per service (tuning for benchmarks and drills). */
  serviceEnv?: Partial<Record<ServiceName, Record<string, string>>>;
  /**
   * Stop the Kafka broker and Redis on stop() if this stack started them (`npm start`). Off for
   * benchmarks and drills: a broker they found missing and started may be in use by others by then.
   */
  stopStartedInfra?: boolean;
  log?: (line: string) => void;
  /** How long a service may take to answer /readyz after it is started (default 90 s). */
  readyTimeoutMs?: number;
}

/** What startStack found running and what it started itself (what stop() may stop). */
export interface InfraState {
  kafka: { brokers: string; startedHere: boolean };
  redis: { url: string; startedHere: boolean };
}

export interface RunningStack {
  catalog: Catalog;
  urls: Record<ServiceName, string>;
  secrets: { ingestToken: string; adminToken: string };
  env: Record<ServiceName, Record<string, string>>;
  infra: InfraState;
  processes: Map<ServiceName, ManagedProcess>;
  /** Restarts one service (stop gracefully or kill -9, then start and wait until ready). */
  restart(name: ServiceName, how: 'graceful' | 'kill'): Promise<void>;
  kill(name: ServiceName): Promise<void>;
  start(name: ServiceName): Promise<void>;
  stop(): Promise<void>;
}

/** The entry point of each service (run with tsx). */
export const SERVICE_ENTRIES: Record<ServiceName, string> = {
  sim: 'tools/cloud-api-sim/src/main.ts',
  webhook: 'services/webhook/src/main.ts',
  ingest: 'services/ingest/src/main.ts',
  dispatcher: 'services/dispatcher/src/main.ts',
  analytics: 'services/analytics/src/main.ts',
};

/** Start order: the receivers of traffic come up before its senders. */
const START_ORDER: readonly ServiceName[] = ['analytics', 'webhook', 'sim', 'dispatcher', 'ingest'];

/**
 * Starts what is missing locally (Kafka broker, Redis, topics) and then the simulator and the four
 * services as child processes, each waited on through its readiness endpoint.
 */
export async function startStack(options: StackOptions): Promise<RunningStack> {
  const log = options.log ?? (() => undefined);
  const root = resolve(options.root);
  const dataDir = resolve(options.dataDir);
  mkdirSync(dataDir, { recursive: true });
  const logDir = join(dataDir, 'logs');
  const ports: Record<ServiceName, number> = { ...DEFAULT_PORTS };
  if (options.ports === 'free') {
    const picked = await freePorts(Object.keys(DEFAULT_PORTS).length);
    (Object.keys(DEFAULT_PORTS) as ServiceName[]).forEach((name, i) => (ports[name] = picked[i]!));
  } else {
    Object.assign(ports, options.ports);
  }
  // A port already taken would let a foreign process answer our readiness probe: refuse up front.
  for (const [name, port] of Object.entries(ports)) {
    if (!(await isPortFree(port))) throw new Error(`port ${port} (for ${name}) is already in use; stop what listens there or choose other ports`);
  }
  const urls = Object.fromEntries(Object.entries(ports).map(([k, p]) => [k, `http://127.0.0.1:${p}`])) as Record<ServiceName, string>;
  const catalog = loadCatalogFile(options.catalogPath);
  const baseEnv: NodeJS.ProcessEnv = { ...process.env };

  // Without explicit addresses: a broker on KAFKA_PORT and a Redis on REDIS_PORT, started here if none answers.
  const kafkaPort = baseEnv.KAFKA_PORT ?? '9092';
  const kafkaBrokers = options.kafkaBrokers ?? `127.0.0.1:${kafkaPort}`;
  const redisUrl = options.redisUrl ?? `redis://127.0.0.1:${baseEnv.REDIS_PORT ?? '6379'}`;
  const kafkaEnv = { ...baseEnv, KAFKA_PORT: kafkaPort };
  const redisEnv = { ...baseEnv, REDIS_URL: redisUrl };
  const answers = (script: string, env: NodeJS.ProcessEnv) =>
    runCommand('bash', [script, 'status'], { cwd: root, env }).then(
      () => true,
      () => false,
    );
  const infra: InfraState = { kafka: { brokers: kafkaBrokers, startedHere: false }, redis: { url: redisUrl, startedHere: false } };
  if (!options.kafkaBrokers) {
    infra.kafka.startedHere = !(await answers('scripts/kafka.sh', kafkaEnv));
    if (infra.kafka.startedHere) log(`starting a Kafka broker on 127.0.0.1:${kafkaPort} (first run fetches the jars through Maven)…`);
    else log(`using the Kafka broker already running on 127.0.0.1:${kafkaPort}`);
    await runCommand('bash', ['scripts/kafka.sh', 'start'], { cwd: root, env: kafkaEnv });
  }
  if (!options.redisUrl) {
    infra.redis.startedHere = !(await answers('scripts/redis.sh', redisEnv));
    await runCommand('bash', ['scripts/redis.sh', 'ensure'], { cwd: root, env: redisEnv });
    log(infra.redis.startedHere ? `started Redis at ${redisUrl}` : `using the Redis already running at ${redisUrl}`);
  }
  const stopInfra = async () => {
    if (!options.stopStartedInfra) return;
    if (infra.kafka.startedHere) {
      log(`stopping the Kafka broker this run started (127.0.0.1:${kafkaPort})…`);
      await runCommand('bash', ['scripts/kafka.sh', 'stop'], { cwd: root, env: kafkaEnv }).catch((err: Error) => log(`kafka stop failed: ${err.message}`));
      infra.kafka.startedHere = false;
    }
    if (infra.redis.startedHere) {
      log(`stopping the Redis this run started (${redisUrl})…`);
      await runCommand('bash', ['scripts/redis.sh', 'stop'], { cwd: root, env: redisEnv }).catch((err: Error) => log(`redis stop failed: ${err.message}`));
      infra.redis.startedHere = false;
    }
  };
  const topicPrefix = options.topicPrefix ?? '';
  log('creating topics…');
  await runCommand(process.execPath, ['--import', 'tsx', 'scripts/create-topics.ts'], {
    cwd: root,
    env: { ...baseEnv, KAFKA_BROKERS: kafkaBrokers, TOPIC_PREFIX: topicPrefix },
  }).catch(async (err: unknown) => {
    await stopInfra();
    throw err;
  });

  // Secrets of this local run: random, in the children's env (and in the CLI's env file npm start writes).
  const secret = () => randomBytes(18).toString('base64url');
  const appSecret = secret();
  const verifyToken = secret();
  const ingestToken = secret();
  const adminToken = secret();
  const accessTokens = new Map(catalog.businesses.map((b) => [b.wabaId, `EAAG${secret()}`]));
  // Dispatcher and analytics must hash recipients with the same salt so their rows join.
  const recipientHashSalt = randomBytes(32).toString('base64url');

  const scenarioPath = join(dataDir, 'sim-scenario.json');
  writeFileSync(scenarioPath, JSON.stringify(scenarioFromCatalog(catalog, { ...options.sim, appSecret, accessTokens }), null, 2), { mode: 0o600 });

  // Each service runs with the heap it is deployed with; flags of the caller's own NODE_OPTIONS come after, so they win.
  const nodeOptions = (service: DeployedService) => [deployedNodeOptions(root, service), baseEnv.NODE_OPTIONS].filter(Boolean).join(' ');
  const common = {
    LOG_LEVEL: 'info',
    KAFKA_BROKERS: kafkaBrokers,
    REDIS_URL: redisUrl,
    TOPIC_PREFIX: topicPrefix,
    REDIS_KEY_PREFIX: options.redisKeyPrefix ?? '',
  };
  const env: Record<ServiceName, Record<string, string>> = {
    sim: { SIM_PORT: String(ports.sim), SIM_SCENARIO: scenarioPath, SIM_WEBHOOK_URL: `${urls.webhook}/webhook` },
    webhook: {
      ...common,
      NODE_OPTIONS: nodeOptions('webhook'),
      HTTP_PORT: String(ports.webhook),
      WEBHOOK_APP_SECRETS: `primary=${appSecret}`,
      WEBHOOK_VERIFY_TOKEN: verifyToken,
    },
    ingest: {
      ...common,
      NODE_OPTIONS: nodeOptions('ingest'),
      HTTP_PORT: String(ports.ingest),
      INGEST_API_TOKEN: ingestToken,
      CATALOG_PATH: resolve(options.catalogPath),
      AUDIENCE_ROOT: dataDir,
    },
    dispatcher: {
      ...common,
      NODE_OPTIONS: nodeOptions('dispatcher'),
      HTTP_PORT: String(ports.dispatcher),
      CATALOG_PATH: resolve(options.catalogPath),
      WA_ACCESS_TOKENS: [...accessTokens].map(([waba, token]) => `${waba}=${token}`).join(','),
      GRAPH_API_BASE_URL: urls.sim,
      ADMIN_TOKEN: adminToken,
      RECIPIENT_HASH_SALT: recipientHashSalt,
    },
    analytics: {
      ...common,
      NODE_OPTIONS: nodeOptions('analytics'),
      HTTP_PORT: String(ports.analytics),
      RECIPIENT_HASH_SALT: recipientHashSalt,
      ...(options.clickhouseUrl ? { CLICKHOUSE_URL: options.clickhouseUrl } : { CLICKHOUSE_PATH: join(dataDir, 'clickhouse') }),
    },
  };
  for (const [name, extra] of Object.entries(options.serviceEnv ?? {})) Object.assign(env[name as ServiceName], extra);

  const processes = new Map<ServiceName, ManagedProcess>();
  const specOf = (name: ServiceName): ProcessSpec => ({
    name,
    entry: SERVICE_ENTRIES[name],
    env: env[name],
    readyUrl: name === 'sim' ? `${urls.sim}/_sim/stats` : `${urls[name]}/readyz`,
  });
  const start = async (name: ServiceName) => {
    const proc = startProcess(root, logDir, specOf(name), baseEnv);
    processes.set(name, proc);
    await waitReady(proc, options.readyTimeoutMs ?? 90_000);
    if (name === 'sim' && proc.child.pid !== undefined) {
      // Meta's servers do not share our CPUs: see raiseToRealtime.
      const priority = raiseToRealtime(proc.child.pid, baseEnv);
      log(`sim scheduling: ${priority.raised ? 'real-time (SCHED_FIFO)' : `normal (${priority.reason})`}`);
    }
    log(`${name} ready at ${urls[name]}`);
  };
  const stopOne = async (name: ServiceName) => {
    const proc = processes.get(name);
    if (proc) await stopProcess(proc, 30_000);
  };

  const stack: RunningStack = {
    catalog,
    urls,
    secrets: { ingestToken, adminToken },
    env,
    infra,
    processes,
    start,
    async kill(name) {
      const proc = processes.get(name);
      if (!proc) return;
      proc.child.kill('SIGKILL');
      await proc.exited;
    },
    async restart(name, how) {
      if (how === 'kill') await stack.kill(name);
      else await stopOne(name);
      await start(name);
    },
    async stop() {
      // Reverse start order: stop accepting work first, stop the receivers last so nothing in flight is lost.
      for (const name of [...START_ORDER].reverse()) await stopOne(name);
      await stopInfra();
    },
  };
  try {
    for (const name of START_ORDER) await start(name);
  } catch (err) {
    await stack.stop();
    throw err;
  }
  return stack;
}
