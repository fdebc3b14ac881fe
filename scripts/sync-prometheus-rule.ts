/**
 * Writes deploy/k8s/base/prometheus-rule.yaml from deploy/prometheus/alerts.yml, so compose's
 * Prometheus and the cluster's prometheus-operator evaluate the same alert rules.
 *
 *   npm run deploy:sync-rules            (deploy validation fails when the two differ)
 */
import { readFile, writeFile } from 'node:fs/promises';
import { parse, stringify } from 'yaml';

const source = 'deploy/prometheus/alerts.yml';
const target = 'deploy/k8s/base/prometheus-rule.yaml';

const alerts = parse(await readFile(source, 'utf8')) as { groups?: unknown[] } | null;
if (!alerts || !Array.isArray(alerts.groups) || alerts.groups.length === 0) {
  console.error(`${source}: no rule groups`);
  process.exit(1);
}
const rule = {
  apiVersion: 'monitoring.coreos.com/v1',
  kind: 'PrometheusRule',
  metadata: {
    name: 'wa-broadcast',
    // The label prometheus-operator's default ruleSelector of kube-prometheus-stack looks for.
    labels: { release: 'kube-prometheus-stack' },
  },
  spec: { groups: alerts.groups },
};
const header = `# GENERATED from ${source} by scripts/sync-prometheus-rule.ts — edit the source, then run\n# \`npm run deploy:sync-rules\`.\n`;
await writeFile(target, header + stringify(rule, { lineWidth: 0 }));
console.log(`${target}: ${alerts.groups.length} group(s) written`);
