import { createSimulator } from './index';
import { ScenarioError } from './scenario';

/**
 * `npm run sim` — env: SIM_PORT (default 8088), SIM_HOST (127.0.0.1), SIM_SCENARIO (JSON/YAML
 * file), SIM_WEBHOOK_URL (receiver; overrides the scenario).
 */
function readEnv(): { port: number; host: string; scenarioFile?: string; webhookUrl?: string } {
  const port = Number(process.env.SIM_PORT ?? 8088);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`SIM_PORT: not a port: ${process.env.SIM_PORT}`);
  const cfg: { port: number; host: string; scenarioFile?: string; webhookUrl?: string } = { port, host: process.env.SIM_HOST ?? '127.0.0.1' };
  if (process.env.SIM_SCENARIO) cfg.scenarioFile = process.env.SIM_SCENARIO;
  if (process.env.SIM_WEBHOOK_URL) cfg.webhookUrl = process.env.SIM_WEBHOOK_URL;
  return Object.freeze(cfg);
}

async function main(): Promise<void> {
  const cfg = readEnv();
  let sim;
  try {
    sim = createSimulator({ ...(cfg.scenarioFile ? { scenarioFile: cfg.scenarioFile } : {}), ...(cfg.webhookUrl ? { webhookUrl: cfg.webhookUrl } : {}) });
  } catch (err) {
    if (err instanceof ScenarioError) {
      process.stderr.write(`cloud-api-sim: ${err.message}\n`);
      process.exit(2);
    }
    throw err;
  }
  const url = await sim.start(cfg.port, cfg.host);
  process.stdout.write(`cloud-api-sim listening on ${url} (webhooks → ${sim.core.webhookUrl ?? 'none'}, pricing ${sim.scenario.pricing.model})\n`);
  const stop = (): void => {
    void sim.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

void main().catch((err: unknown) => {
  process.stderr.write(`cloud-api-sim: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
