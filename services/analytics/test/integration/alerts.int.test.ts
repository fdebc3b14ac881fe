import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { requireTool, TOOLS } from '@wa/shared/required-tools';

const RULES = 'deploy/prometheus/alerts.yml';
const RULE_TESTS = 'deploy/prometheus/alerts.test.yml';
const promtool = requireTool(TOOLS.promtool);

interface Rule {
  alert: string;
  expr: string;
  for?: string;
}

describe('Prometheus alert rules', () => {
  const rules = (parse(readFileSync(RULES, 'utf8')) as { groups: { rules: Rule[] }[] }).groups.flatMap((g) => g.rules);
  const byName = new Map(rules.map((r) => [r.alert, r]));

  it('cover delivery rate, webhook p99, consumer lag, 130429 bursts and DLQ growth', () => {
    expect(byName.get('WaDeliveryRateBelow99')).toMatchObject({ for: '15m' });
    expect(byName.get('WaDeliveryRateBelow99')!.expr).toContain('wa_delivery_rate{window="1h"}) < 0.99');
    expect(byName.get('WaWebhookAckP99High')!.expr).toMatch(/histogram_quantile\(0\.99, .*wa_webhook_ack_duration_seconds_bucket.*> 0\.3$/);
    expect(byName.get('WaConsumerLagGrowing')).toMatchObject({ for: '10m' });
    expect(byName.get('WaThroughputLimitHit')!.expr).toContain('wa_dispatch_errors_total{code="130429"}');
    expect(byName.get('WaDeadLetterGrowth')!.expr).toContain('wa_ingest_dlq_total');
  });

  it('pass `promtool check rules`', promtool.options, () => {
    const out = execFileSync('promtool', ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(out).toContain(`SUCCESS: ${rules.length} rules found`);
  });

  it('fire on bad series and stay quiet on good ones (`promtool test rules`)', promtool.options, () => {
    const run = spawnSync('promtool', ['test', 'rules', RULE_TESTS], { encoding: 'utf8' });
    expect(run.stdout + run.stderr).toContain('SUCCESS');
    expect(run.status).toBe(0);
    const tested = new Set([...readFileSync(RULE_TESTS, 'utf8').matchAll(/alertname: (\w+)/g)].map((m) => m[1]));
    expect([...byName.keys()].filter((a) => !tested.has(a))).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  const dashboard = JSON.parse(readFileSync('deploy/grafana/dashboards/wa-broadcast-overview.json', 'utf8')) as {
    uid: string;
    panels: { title: string; datasource: { uid: string }; targets: { expr: string }[] }[];
  };
  const exprs = dashboard.panels.flatMap((p) => p.targets.map((t) => t.expr));

  it('shows throughput, delivery rate, errors by code, rate-limit headroom, webhook latency and consumer lag', () => {
    const titles = dashboard.panels.map((p) => p.title.toLowerCase());
    for (const topic of ['throughput', 'delivery rate', 'errors by code', 'headroom', 'webhook acknowledgement latency', 'consumer lag']) {
      expect(
        titles.some((t) => t.includes(topic)),
        topic,
      ).toBe(true);
    }
    expect(dashboard.panels.every((p) => p.datasource.uid === 'prometheus')).toBe(true);
    expect(exprs.some((e) => e.includes('wa_delivery_rate'))).toBe(true);
    expect(exprs.some((e) => e.includes('wa_webhook_ack_duration_seconds_bucket'))).toBe(true);
  });

  it('has only valid PromQL (each query checked by promtool as a recording rule)', promtool.options, () => {
    const dir = mkdtempSync(join(tmpdir(), 'grafana-promql-'));
    try {
      const file = join(dir, 'panels.yml');
      writeFileSync(file, stringify({ groups: [{ name: 'panels', rules: exprs.map((expr, i) => ({ record: `panel:query_${i}`, expr })) }] }));
      const run = spawnSync('promtool', ['check', 'rules', file], { encoding: 'utf8' });
      expect(run.stdout + run.stderr).toContain(`SUCCESS: ${exprs.length} rules found`);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
