import { rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { writeEnvFile } from '@wa/cli/env-file';
import { cliEnvironment } from './cli-env';
import { DEMO_LAUNCH_TEMPLATE } from './demo/responder';
import { runDemo } from './demo/run-demo';
import { formatSummary } from './demo/summary';
import { startStack, type RunningStack } from './stack';

/**
 * `npm start`: the whole broadcaster on one machine, then the demo broadcast.
 * Flags: --no-demo (just run the stack), --exit (stop after the demo), --recipients N.
 * Environment: KAFKA_BROKERS / REDIS_URL / CLICKHOUSE_URL point at existing infrastructure; without
 * them a broker on KAFKA_PORT (9092) and a Redis on REDIS_PORT (6379) are used, started if none answers.
 * The CLI's connection settings go to <dataDir>/env (mode 0600) while the stack runs.
 * Ctrl-C / --exit stop the services, and the broker and Redis if this run started them.
 */
const { values } = parseArgs({
  options: {
    'no-demo': { type: 'boolean', default: false },
    exit: { type: 'boolean', default: false },
    recipients: { type: 'string', default: '20000' },
    catalog: { type: 'string', default: 'config/catalog.demo.json' },
  },
});

const root = resolve(import.meta.dirname, '../../..');
const dataDir = resolve(root, '.data/local');
const envFile = join(dataDir, 'env');
const log = (line: string) => process.stdout.write(`${line}\n`);
const interactive = process.stdout.isTTY === true;

let stack: RunningStack | undefined;
let stopping = false;
const abort = new AbortController();

async function shutdown(code: number): Promise<never> {
  if (!stopping) {
    stopping = true;
    abort.abort();
    log('\nstopping services (graceful)…');
    rmSync(envFile, { force: true });
    await stack?.stop();
    log('stopped.');
  }
  process.exit(code);
}
process.on('SIGINT', () => void shutdown(0));
process.on('SIGTERM', () => void shutdown(0));

try {
  stack = await startStack({
    root,
    catalogPath: resolve(root, values.catalog!),
    dataDir,
    kafkaBrokers: process.env.KAFKA_BROKERS,
    redisUrl: process.env.REDIS_URL,
    clickhouseUrl: process.env.CLICKHOUSE_URL,
    stopStartedInfra: true,
    // People who tap the launch template's quick reply do so within seconds, while the demo watches.
    sim: {
      delaysMs: { sent: [20, 200], delivered: [200, 1500], read: [500, 8000] },
      templates: [DEMO_LAUNCH_TEMPLATE],
      population: { replyDelayMs: [500, 4000] },
    },
    log,
  });
  writeEnvFile(envFile, cliEnvironment(stack), [`written by npm start (pid ${process.pid}) for the wa-broadcast CLI; removed when it stops`]);
  log(`\nstack running — dashboard: ${stack.urls.analytics}/   logs: ${dataDir}/logs/`);
  log(`CLI settings (tokens, URLs): ${envFile} — \`npm run cli -- status <campaign>\` reads them`);
  if (!values['no-demo']) {
    let drawn = 0;
    const draw = (lines: string[]) => {
      if (interactive && drawn > 0) process.stdout.write(`\x1b[${drawn}A\x1b[0J`);
      process.stdout.write(`${lines.join('\n')}\n`);
      drawn = lines.length;
    };
    const result = await runDemo(stack, { recipients: Number(values.recipients), dataDir, draw, signal: abort.signal });
    log(formatSummary(result));
    log(`\ndashboard: ${stack.urls.analytics}/`);
  }
  if (values.exit) await shutdown(0);
  log('press Ctrl-C to stop everything');
} catch (err) {
  process.stderr.write(`npm start failed: ${(err as Error).message}\n`);
  await shutdown(1);
}
