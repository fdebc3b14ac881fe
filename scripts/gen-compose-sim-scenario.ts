/**
 * Writes the Cloud API simulator's scenario for the docker-compose `sim` profile, derived from a
 * catalogue exactly as `npm start` derives it, with the app secret and access tokens compose's
 * local defaults give the webhook and dispatcher (so signatures and tokens agree).
 *
 *   npm run deploy:sim-scenario                                   (example catalogue → deploy/compose/sim-scenario.json)
 *   npm run deploy:sim-scenario -- --catalog config/catalog.json --out .data/sim-scenario.json \
 *     --app-secret "$APP_SECRET" --access-tokens "$WA_ACCESS_TOKENS"
 * then point compose at it: SIM_SCENARIO_FILE=.data/sim-scenario.json.
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { loadCatalogFile, parseAccessTokens } from '@wa/shared/catalog';
import { scenarioFromCatalog } from '../tools/stack/src/scenario-from-catalog';

/** The simulator-only values of the `sim` profile (.env.example, deploy/compose/validate.env: WEBHOOK_APP_SECRETS=sim=…, WA_ACCESS_TOKENS=…). */
export const COMPOSE_SIM_DEFAULTS = {
  catalog: 'config/catalog.example.json',
  out: 'deploy/compose/sim-scenario.json',
  appSecret: 'sim-app-secret',
  accessTokens: '102290129340398=local-sim-access-token',
};

export function composeSimScenario(options: { catalog: string; appSecret: string; accessTokens: string }): string {
  const scenario = scenarioFromCatalog(loadCatalogFile(options.catalog), {
    appSecret: options.appSecret,
    accessTokens: parseAccessTokens(options.accessTokens),
  });
  return `${JSON.stringify(scenario, null, 2)}\n`;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      catalog: { type: 'string', default: COMPOSE_SIM_DEFAULTS.catalog },
      out: { type: 'string', default: COMPOSE_SIM_DEFAULTS.out },
      'app-secret': { type: 'string', default: COMPOSE_SIM_DEFAULTS.appSecret },
      'access-tokens': { type: 'string', default: COMPOSE_SIM_DEFAULTS.accessTokens },
    },
  });
  writeFileSync(values.out, composeSimScenario({ catalog: values.catalog, appSecret: values['app-secret'], accessTokens: values['access-tokens'] }));
  console.log(`${values.out}: simulator scenario for ${values.catalog}`);
}
