import type { FastifyInstance } from 'fastify';
import { createManualClock, createScaledClock, type Clock, type ManualClock } from './clock';
import { buildApp } from './http';
import { loadScenarioFile, parseScenario, type Scenario, type ScenarioInput } from './scenario';
import type { AccountEventInput } from './account-events';
import type { InboundInput } from './inbound';
import { SimCore } from './sim-core';
import { signBody } from './webhook-sender';

export interface SimulatorOptions {
  /** A scenario object (validated and defaulted here) … */
  scenario?: ScenarioInput;
  /** … or a JSON/YAML scenario file. */
  scenarioFile?: string;
  /** Overrides the scenario's webhook receiver URL. */
  webhookUrl?: string;
  /** Injected clock (e.g. createManualClock()); default: wall time scaled by scenario.timeScale. */
  clock?: Clock;
  logger?: boolean;
}

export interface Simulator {
  /** The fastify app (not listening): use `app.inject()` in tests. */
  readonly app: FastifyInstance;
  readonly core: SimCore;
  readonly scenario: Scenario;
  readonly clock: Clock;
  /** Listens on 127.0.0.1 (port 0 = any free port) and resolves with the base URL. */
  start(port?: number, host?: string): Promise<string>;
  /** Idempotent: stops listening, the emission loop and the webhook client. */
  close(): Promise<void>;
  url(): string | undefined;
  setWebhookUrl(url: string | undefined): void;
  stats(): Record<string, unknown>;
  reset(): void;
  inbound(input: InboundInput): { id: string };
  event(e: AccountEventInput): void;
  /** Emits what is due now and waits until no webhook POST is queued or in flight. */
  flush(): Promise<void>;
}

/** Builds the simulator in-process. The emission loop runs (unref'd) from creation to close(). */
export function createSimulator(options: SimulatorOptions = {}): Simulator {
  const scenario = options.scenarioFile ? loadScenarioFile(options.scenarioFile) : parseScenario(options.scenario ?? {});
  const clock = options.clock ?? createScaledClock(scenario.timeScale);
  const core = new SimCore(scenario, clock, options.webhookUrl);
  const app = buildApp(core, { logger: options.logger ?? false });
  core.startTicker();
  let baseUrl: string | undefined;
  let closing: Promise<void> | undefined;
  return {
    app,
    core,
    scenario,
    clock,
    async start(port = 0, host = '127.0.0.1') {
      await app.listen({ port, host });
      const addr = app.server.address();
      const p = typeof addr === 'object' && addr ? addr.port : port;
      baseUrl = `http://${host}:${p}`;
      return baseUrl;
    },
    close() {
      closing ??= (async () => {
        try {
          await app.close();
        } finally {
          await core.close();
        }
      })();
      return closing;
    },
    url: () => baseUrl,
    setWebhookUrl(url) {
      core.webhookUrl = url;
    },
    stats: () => core.stats(),
    reset: () => core.resetState(),
    inbound: (input) => core.inbound(input),
    event: (e) => core.accountEvent(e),
    async flush() {
      core.tick();
      await core.sender.whenIdle();
    },
  };
}

export { createManualClock, createScaledClock, signBody, parseScenario, loadScenarioFile };
export type { Clock, ManualClock, Scenario, ScenarioInput, InboundInput, AccountEventInput };
export { ScenarioError, DEFAULT_ACCESS_TOKEN, DEFAULT_WABA_ID, DEFAULT_PHONE_NUMBER_IDS } from './scenario';
export { metaStringify } from './meta-json';
