/**
 * `npm run validate:deploy` — checks the Kubernetes overlays, docker-compose.yml and the Dockerfile
 * without a cluster or a container engine. Prints one line per check and every problem; writes
 * the report to .cache/deploy-validate/report.json; exits 1 on any problem.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { validateDeploy } from './run';

const root = process.cwd();
const report = await validateDeploy(root);
console.log(`kubectl: ${report.tools.kubectl ?? 'missing'}`);
console.log(`compose: ${report.tools.compose ?? 'missing'}`);
for (const c of report.checks) {
  console.log(`${c.problems.length === 0 ? 'ok  ' : 'FAIL'}  ${c.name.padEnd(22)} ${String(c.ms).padStart(6)} ms  ${c.detail}`);
  for (const p of c.problems) console.log(`        - ${p}`);
}
mkdirSync(join(root, '.cache/deploy-validate'), { recursive: true });
writeFileSync(join(root, '.cache/deploy-validate/report.json'), JSON.stringify({ tools: report.tools, checks: report.checks, ok: report.ok }, null, 2));
const failed = report.checks.filter((c) => c.problems.length > 0).length;
console.log(`${report.checks.length - failed} passed, ${failed} failed`);
process.exit(report.ok ? 0 : 1);
