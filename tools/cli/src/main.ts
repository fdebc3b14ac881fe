import { existsSync } from 'node:fs';
import { isAbsolute, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { createKafka, createLogger, loadConfig, ConfigError } from '@wa/shared';
import { cliConfigSchema } from './config';
import { loadCliEnvironment } from './env-file';
import { DLQ_TOPICS, readDlq, replayDlq, type DlqName } from './dlq';
import { progressLine, renderCampaign } from './campaign-view';
import { CampaignNotFound, fetchCampaignView, setCampaignState, watchCampaign } from './campaigns';
import { callJson } from './http-client';
import { FINANCE_VIEWS, runSql } from './sql';
import { buildNotificationRequest } from './request-builder';
import { uploadMedia } from './media';
import { listLine, showTemplate, templatesKnown, templatesSync } from './templates';
import { loadCatalogFile } from '@wa/shared/catalog';
import { createRedis } from '@wa/shared/redis';

const USAGE = `wa-broadcast — operate the WhatsApp broadcaster

  wa-broadcast send --to <phone> --sender <phoneNumberId|pool:NAME> (--template NAME [--language en_US] [--category utility] [--params a,b] | --text "...") [--key K] [--campaign ID] [--expires-in SECONDS]
  wa-broadcast broadcast --audience <file.csv|file.ndjson (relative to the current directory; must be under ingest's AUDIENCE_ROOT)> --sender <id|pool:NAME> --template NAME [--language L] [--category C] [--params a,b] --campaign ID [--key K]
  wa-broadcast status <campaignId> [--watch] [--json]   state, progress, ETA, every requested recipient accounted for, cost
  wa-broadcast pause|resume|cancel <campaignId> [--json] campaign control (dispatcher admin API, ADMIN_TOKEN); acts within seconds
  wa-broadcast sql "SELECT …" [--csv]              read-only query against the configured ClickHouse (npm run sql -- "SELECT …")
  wa-broadcast sql --view v_daily_spend            a finance view as CSV (redirect to a file)
  wa-broadcast dlq tail [notifications|dispatch] [--limit 20] [--idle-ms 4000]
  wa-broadcast templates sync                     copy the templates from Meta (GET /{waba-id}/message_templates) into the store
  wa-broadcast templates list                     every template in use: synced from Meta, else declared in the catalogue
  wa-broadcast templates show NAME [--language L] its components and the parameters a request must give
  wa-broadcast media upload FILE --sender ID [--type MIME]  upload once, print the media id (valid 30 days) for every recipient's message
  wa-broadcast dlq replay <notifications|dispatch> [--reason R[,R]] [--limit 1000] [--dry-run] [--force]

Settings: the environment (INGEST_URL, INGEST_API_TOKEN, DISPATCHER_URL, ADMIN_TOKEN, ANALYTICS_URL, KAFKA_BROKERS,
TOPIC_PREFIX; for templates also CATALOG_PATH, REDIS_URL, REDIS_KEY_PREFIX and, to sync,
WA_ACCESS_TOKENS, GRAPH_API_BASE_URL, GRAPH_API_VERSION), then the file \`npm start\` writes (.data/local/env) for what the environment leaves unset.
WA_ENV_FILE=<path> reads another file; WA_ENV_FILE= (empty) reads none.`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      to: { type: 'string' },
      audience: { type: 'string' },
      sender: { type: 'string' },
      template: { type: 'string' },
      language: { type: 'string' },
      category: { type: 'string' },
      params: { type: 'string' },
      text: { type: 'string' },
      key: { type: 'string' },
      campaign: { type: 'string' },
      'expires-in': { type: 'string' },
      limit: { type: 'string' },
      'idle-ms': { type: 'string' },
      reason: { type: 'string' },
      type: { type: 'string' },
      'dry-run': { type: 'boolean', default: false },
      force: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      csv: { type: 'boolean', default: false },
      view: { type: 'string' },
      watch: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || !command) {
    console.log(USAGE);
    return command || values.help ? 0 : 2;
  }
  const environment = loadCliEnvironment(process.env);
  envFileUsed = environment.file;
  const config = loadConfig(cliConfigSchema, environment.env);
  const print = (value: unknown) => console.log(JSON.stringify(value, null, 2));

  switch (command) {
    case 'send':
    case 'broadcast': {
      if (!values.sender) return usageError('--sender is required');
      if (command === 'broadcast' && !values.audience) return usageError('--audience is required');
      const built = buildNotificationRequest({
        to: command === 'send' ? values.to : undefined,
        // Relative to where the caller stands (npm run sets INIT_CWD to it), not to the service's directory.
        audience: command === 'broadcast' && values.audience ? resolve(process.env.INIT_CWD ?? process.cwd(), values.audience) : undefined,
        sender: values.sender,
        template: values.template,
        language: values.language,
        category: values.category,
        params: values.params,
        text: values.text,
        key: values.key,
        campaign: values.campaign,
        expiresIn: values['expires-in'],
      });
      if (!built.ok) return usageError(built.error);
      if (built.request.audience && config.AUDIENCE_ROOT) {
        const problem = audienceProblem(built.request.audience.path, config.AUDIENCE_ROOT);
        if (problem) return usageError(problem);
      }
      print(await callJson('POST', `${config.INGEST_URL}/v1/notifications`, { token: config.INGEST_API_TOKEN, body: built.request }));
      return 0;
    }
    case 'status': {
      const id = rest[0];
      if (!id) return usageError('status needs a campaign id');
      const endpoints = { dispatcherUrl: config.DISPATCHER_URL, adminToken: config.ADMIN_TOKEN, analyticsUrl: config.ANALYTICS_URL };
      if (values.watch) {
        const view = await watchCampaign(endpoints, id, {
          intervalMs: 2_000,
          write: (t) => process.stdout.write(t),
          interactive: process.stdout.isTTY === true,
        });
        if (values.json) print(view);
        return 0;
      }
      const view = await fetchCampaignView(endpoints, id);
      if (values.json) print(view);
      else console.log(renderCampaign(view).join('\n'));
      return 0;
    }
    case 'pause':
    case 'resume':
    case 'cancel': {
      const id = rest[0];
      if (!id) return usageError(`${command} needs a campaign id`);
      const result = await setCampaignState(
        { dispatcherUrl: config.DISPATCHER_URL, adminToken: config.ADMIN_TOKEN, analyticsUrl: config.ANALYTICS_URL },
        id,
        command,
      );
      if (values.json) print(result);
      else {
        console.log(`campaign ${id}: ${result.state} — ${result.effect}`);
        if (result.campaign) console.log(`  ${progressLine(result.campaign)}`);
      }
      return 0;
    }
    case 'sql': {
      const view = values.view;
      if (view && !(FINANCE_VIEWS as readonly string[]).includes(view)) return usageError(`--view takes one of ${FINANCE_VIEWS.join(', ')}`);
      const query = view ? `SELECT * FROM ${config.CLICKHOUSE_DATABASE}.${view}` : rest.join(' ');
      if (!query.trim()) return usageError('sql needs a query (or --view NAME)');
      const target = {
        clickhouseUrl: config.CLICKHOUSE_URL,
        clickhousePath: config.CLICKHOUSE_PATH,
        database: config.CLICKHOUSE_DATABASE,
        username: config.CLICKHOUSE_USER,
        password: config.CLICKHOUSE_PASSWORD,
        analyticsUrl: config.ANALYTICS_URL,
      };
      process.stdout.write(await runSql(target, query, values.csv || view ? 'csv' : 'table'));
      return 0;
    }
    case 'dlq': {
      const [action, which] = rest;
      const logger = createLogger({ service: 'wa-cli', level: config.LOG_LEVEL });
      const kafka = createKafka({ brokers: config.KAFKA_BROKERS, clientId: 'wa-cli', logger });
      const limit = Number(values.limit ?? (action === 'tail' ? 20 : 1000));
      const idleMs = Number(values['idle-ms'] ?? 4000);
      if (action === 'tail') {
        const names: DlqName[] = which ? [asDlq(which)] : ['notifications', 'dispatch'];
        const count = await readDlq(kafka, {
          topics: names.map((n) => config.TOPIC_PREFIX + DLQ_TOPICS[n]),
          groupId: `wa-cli-tail-${process.pid}-${Date.now()}`,
          limit,
          idleMs,
          commit: false,
          onEntry: async (e) => {
            const r = e.record;
            console.log(
              r
                ? `${r.occurredAt} ${e.topic}[${e.partition}@${e.offset}] ${r.reason}${r.errorCode ? ` (${r.errorCode})` : ''} from ${r.source.kind === 'kafka' ? `${r.source.topic}[${r.source.partition}@${r.source.offset}]` : r.source.kind}: ${r.detail}`
                : `${e.topic}[${e.partition}@${e.offset}] unreadable DLQ record: ${e.problem}`,
            );
          },
        });
        console.log(`${count} record(s)`);
        return 0;
      }
      if (action === 'replay') {
        if (!which) return usageError('dlq replay needs notifications or dispatch');
        const reasons = values.reason ? new Set(values.reason.split(',').map((r) => r.trim())) : undefined;
        const result = await replayDlq(kafka, {
          dlq: asDlq(which),
          prefix: config.TOPIC_PREFIX,
          ...(reasons ? { reasons } : {}),
          limit,
          idleMs,
          dryRun: values['dry-run'] ?? false,
          force: values.force ?? false,
          log: (line) => console.log(line),
        });
        print(result);
        return 0;
      }
      return usageError('dlq takes tail or replay');
    }
    case 'media': {
      const [action, file] = rest;
      if (action !== 'upload' || !file) return usageError('media takes upload FILE --sender ID');
      if (!values.sender || !config.CATALOG_PATH || !config.WA_ACCESS_TOKENS)
        return usageError('media upload needs --sender, CATALOG_PATH and WA_ACCESS_TOKENS');
      print(
        await uploadMedia({
          file,
          phoneNumberId: values.sender,
          ...(values.type ? { type: values.type } : {}),
          catalog: loadCatalogFile(config.CATALOG_PATH),
          accessTokens: config.WA_ACCESS_TOKENS,
          graph: { baseUrl: config.GRAPH_API_BASE_URL, version: config.GRAPH_API_VERSION },
        }),
      );
      return 0;
    }
    case 'templates': {
      const [action, name] = rest;
      if (!config.CATALOG_PATH) return usageError('templates needs CATALOG_PATH (the business accounts to look at)');
      const catalog = loadCatalogFile(config.CATALOG_PATH);
      const redis = createRedis(config.REDIS_URL);
      await redis.connect();
      try {
        const deps = { redis, keyPrefix: config.REDIS_KEY_PREFIX, catalog };
        if (action === 'sync') {
          if (!config.WA_ACCESS_TOKENS) return usageError('templates sync needs WA_ACCESS_TOKENS');
          const results = await templatesSync({
            ...deps,
            accessTokens: config.WA_ACCESS_TOKENS,
            graph: { baseUrl: config.GRAPH_API_BASE_URL, version: config.GRAPH_API_VERSION },
          });
          print(results);
          return results.every((r) => r.ok) ? 0 : 1;
        }
        const known = await templatesKnown(deps);
        if (action === 'list') {
          console.log(['waba', 'name', 'language', 'category', 'status', 'format', 'quality', 'source'].join('\t'));
          for (const t of known.templates) console.log(listLine(t));
          for (const [waba, at] of Object.entries(known.syncedAt)) console.log(`# ${waba} synced ${at}`);
          return 0;
        }
        if (action === 'show') {
          if (!name) return usageError('templates show needs a template name');
          const found = known.templates.filter((t) => t.name === name && (!values.language || t.language === values.language));
          if (found.length === 0) return usageError(`no template ${name}${values.language ? `/${values.language}` : ''}`);
          print(found.map(showTemplate));
          return 0;
        }
        return usageError('templates takes sync, list or show NAME');
      } finally {
        await redis.quit();
      }
    }
    default:
      return usageError(`unknown command ${command}`);
  }
}

/** Ingest reads audiences only under its AUDIENCE_ROOT: say so here, before the request is dead-lettered there. */
function audienceProblem(path: string, root: string): string | undefined {
  const rel = relative(resolve(root), path);
  if (rel.startsWith('..') || isAbsolute(rel))
    return `--audience ${path} is outside ingest's audience root ${resolve(root)} (AUDIENCE_ROOT): copy the file there`;
  if (!existsSync(path)) return `--audience ${path} does not exist`;
  return undefined;
}

function asDlq(name: string): DlqName {
  if (name === 'notifications' || name === 'dispatch') return name;
  throw new UsageError(`unknown DLQ ${name}: use notifications or dispatch`);
}

class UsageError extends Error {}

/** The env file the settings came from (for error hints); null when none was read. */
let envFileUsed: string | null = null;

function hint(message: string): string {
  if (/cannot reach|answered 401/.test(message) && envFileUsed === null) {
    return `${message}\n(no settings file was read: start the local stack with \`npm start\`, which writes .data/local/env, or set INGEST_URL/INGEST_API_TOKEN/DISPATCHER_URL/ADMIN_TOKEN/ANALYTICS_URL)`;
  }
  if (/cannot reach/.test(message)) return `${message}\n(settings from ${envFileUsed}: is the \`npm start\` that wrote it still running?)`;
  return message;
}

function usageError(message: string): number {
  console.error(`error: ${message}\n\n${USAGE}`);
  return 2;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    if (err instanceof UsageError) process.exit(usageError(err.message));
    if (err instanceof CampaignNotFound) {
      console.error(`error: ${err.message}`);
      process.exit(3);
    }
    console.error(`error: ${err instanceof ConfigError ? err.message : hint((err as Error).message)}`);
    process.exit(1);
  },
);
