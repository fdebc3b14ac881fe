import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { runCommand } from './processes';

/**
 * Infrastructure owned by one drill run: a broker on its own port and a Redis with AOF
 * (appendfsync always) on its own port, so drills can restart them without touching the broker
 * and Redis that other test runs share.
 */
export interface DrillInfra {
  kafkaBrokers: string;
  /** Address of the cuttable proxy in front of the broker's fault listener. */
  faultProxy: { listenPort: number; targetPort: number };
  redisUrl: string;
  restartKafka(): Promise<void>;
  restartRedis(): Promise<void>;
  stop(): Promise<void>;
}

export async function startDrillInfra(root: string, options: { kafkaPort: number; redisPort: number }): Promise<DrillInfra> {
  const env = { ...process.env, KAFKA_PORT: String(options.kafkaPort) };
  const kafka = (action: string) => runCommand('bash', ['scripts/kafka.sh', action], { cwd: root, env });
  await kafka('start');
  const redisDir = join(root, '.cache', `drill-redis-${options.redisPort}`);
  mkdirSync(redisDir, { recursive: true });
  const startRedis = () =>
    runCommand(
      'redis-server',
      [
        '--port',
        String(options.redisPort),
        '--bind',
        '127.0.0.1',
        '--daemonize',
        'yes',
        '--dir',
        redisDir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--logfile',
        join(redisDir, 'redis.log'),
      ],
      { cwd: root, env: process.env },
    );
  const redisCli = (...args: string[]) => runCommand('redis-cli', ['-p', String(options.redisPort), ...args], { cwd: root, env: process.env });
  const waitRedis = async () => {
    for (let i = 0; i < 100; i++) {
      try {
        if ((await redisCli('ping')).includes('PONG')) return;
      } catch {
        // not up yet
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`drill Redis on ${options.redisPort} did not answer`);
  };
  await redisCli('shutdown', 'nosave').catch(() => undefined);
  await startRedis();
  await waitRedis();
  return {
    kafkaBrokers: `127.0.0.1:${options.kafkaPort}`,
    // kafka.sh's defaults: the fault listener at KAFKA_PORT + 2 advertises the proxy at KAFKA_PORT + 3.
    faultProxy: { listenPort: options.kafkaPort + 3, targetPort: options.kafkaPort + 2 },
    redisUrl: `redis://127.0.0.1:${options.redisPort}`,
    async restartKafka() {
      await kafka('restart');
    },
    async restartRedis() {
      // SHUTDOWN flushes the AOF; the restarted server replays it.
      await redisCli('shutdown').catch(() => undefined);
      await startRedis();
      await waitRedis();
    },
    async stop() {
      await kafka('stop').catch(() => undefined);
      await redisCli('shutdown', 'nosave').catch(() => undefined);
    },
  };
}
