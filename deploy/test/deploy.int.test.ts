import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { requireTool, TOOLS } from '@wa/shared/required-tools';
import {
  checkComposePolicies,
  checkDashboards,
  checkDockerfile,
  composeConfig,
  findComposeCommand,
  readRawCompose,
  validateComposeSchema,
  type ComposeFile,
} from '../validate/compose';
import { allowsTraffic, checkK8sPolicies, type PolicyOptions } from '../validate/k8s-policies';
import { checkUnknownFields, validateAgainstSchemas, type K8sObject } from '../validate/k8s-schema';
import { checkSimWiring, validateDeploy, type DeployReport } from '../validate/run';
import { loadServiceEnvSpecs } from '../validate/service-env';

const root = resolve(import.meta.dirname, '../..');
// kubectl renders the overlays (kustomize); a real compose implementation resolves docker-compose.yml.
const kubectl = requireTool(TOOLS.kubectl);
const compose = requireTool(TOOLS.compose);
const promtool = requireTool(TOOLS.promtool);

// Deep copies, so each negative case mutates its own manifests.
const clone = <T>(v: T): T => structuredClone(v);
const find = (objects: K8sObject[], kind: string, name: string) => {
  const o = objects.find((x) => x.kind === kind && x.metadata.name === name);
  if (!o) throw new Error(`${kind}/${name} not rendered`);
  return o as unknown as Record<string, any>;
};

let report: DeployReport;
let policyOptions: PolicyOptions;

beforeAll(async () => {
  report = await validateDeploy(root);
  const { specs } = await loadServiceEnvSpecs(root);
  const secret = parse(readFileSync(join(root, 'deploy/k8s/examples/secret.example.yaml'), 'utf8')) as { stringData: Record<string, string> };
  const alertsFile = join(root, 'deploy/prometheus/alerts.yml');
  const alerts = existsSync(alertsFile) ? (parse(readFileSync(alertsFile, 'utf8')) as { groups?: unknown[] } | null) : null;
  policyOptions = { envSpecs: specs, documentedSecretKeys: new Set(Object.keys(secret.stringData)), alertGroups: alerts?.groups };
});

describe('deploy validation of the checked-in assets', () => {
  const problemsOf = (names: (name: string) => boolean) => report.checks.filter((c) => names(c.name)).flatMap((c) => c.problems);

  it('runs every check: overlays, compose, Prometheus, Dockerfile, config schemas', () => {
    expect(report.checks.map((c) => c.name)).toEqual(
      expect.arrayContaining([
        'k8s staging',
        'k8s production',
        'k8s production-keda',
        'docker-compose.yml',
        'prometheus.yml',
        'Dockerfile',
        'service config schemas',
      ]),
    );
  });

  it('the overlays render and match the schemas and policies', kubectl.options, () => {
    expect(problemsOf((name) => name.startsWith('k8s '))).toEqual([]);
  });

  it('docker-compose.yml passes a real compose implementation, the compose-spec schema and the policies', compose.options, () => {
    expect(problemsOf((name) => name === 'docker-compose.yml')).toEqual([]);
  });

  it('prometheus.yml and its rules pass `promtool check config`', promtool.options, () => {
    expect(problemsOf((name) => name === 'prometheus.yml')).toEqual([]);
    expect(report.checks.find((c) => c.name === 'prometheus.yml')?.detail).toMatch(/SUCCESS/);
  });

  it('the Dockerfile, the example Secret and the service config schemas are sound', () => {
    expect(problemsOf((name) => !name.startsWith('k8s ') && name !== 'docker-compose.yml' && name !== 'prometheus.yml')).toEqual([]);
  });

  it(
    'renders five workloads (the webhook as receiver + normaliser) with probes, autoscaling, budgets, monitors and policies in each overlay',
    kubectl.options,
    () => {
      for (const [overlay, objects] of Object.entries(report.rendered)) {
        const count = (kind: string) => objects.filter((o) => o.kind === kind).length;
        expect(count('Deployment'), overlay).toBe(5);
        expect(count('Service'), overlay).toBe(5);
        expect(count('PodDisruptionBudget'), overlay).toBe(5);
        expect(count('ServiceMonitor'), overlay).toBe(5);
        expect(count('PrometheusRule'), overlay).toBe(1);
        expect(count('NetworkPolicy'), overlay).toBeGreaterThanOrEqual(8);
        expect(count('Secret'), overlay).toBe(0);
        expect(count('HorizontalPodAutoscaler') + count('ScaledObject'), overlay).toBe(5);
      }
    },
  );

  it('splits the webhook: Deployment webhook receives only, webhook-normaliser normalises only, same image and entrypoint', kubectl.options, () => {
    const envOf = (c: { env?: { name: string; value?: string }[] }) => Object.fromEntries((c.env ?? []).map((e) => [e.name, e.value]));
    for (const [overlay, objects] of Object.entries(report.rendered)) {
      const receiver = find(objects, 'Deployment', 'webhook').spec.template.spec.containers[0];
      const normaliser = find(objects, 'Deployment', 'webhook-normaliser').spec.template.spec.containers[0];
      expect(envOf(receiver).NORMALISER_ENABLED, overlay).toBe('false');
      expect(envOf(receiver)).not.toHaveProperty('WEBHOOK_RECEIVER_ENABLED');
      expect(envOf(normaliser).WEBHOOK_RECEIVER_ENABLED, overlay).toBe('false');
      expect(envOf(normaliser)).not.toHaveProperty('NORMALISER_ENABLED');
      expect(normaliser.image).toBe(receiver.image);
      expect(normaliser.args).toEqual(['services/webhook/src/main.ts']);
      expect(normaliser.envFrom).toEqual(receiver.envFrom);
      // The schema still requires the receiver's secrets; the normaliser reads Redis.
      expect(normaliser.env.map((e: { name: string }) => e.name)).toEqual(expect.arrayContaining(['REDIS_URL', 'WEBHOOK_APP_SECRETS', 'WEBHOOK_VERIFY_TOKEN']));
      expect(normaliser.startupProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(normaliser.readinessProbe.httpGet).toEqual({ path: '/readyz', port: 'http' });
      expect(normaliser.livenessProbe.httpGet).toEqual({ path: '/healthz', port: 'http' });
      expect(find(objects, 'Deployment', 'webhook-normaliser').spec.template.spec.terminationGracePeriodSeconds).toBe(40);
      // The public Service and the ServiceMonitors select one role each.
      expect(find(objects, 'Service', 'webhook').spec.selector).toEqual({ 'app.kubernetes.io/name': 'webhook' });
      expect(find(objects, 'Service', 'webhook-normaliser').spec.selector).toEqual({ 'app.kubernetes.io/name': 'webhook-normaliser' });
      expect(find(objects, 'ServiceMonitor', 'webhook-normaliser').spec.selector.matchLabels).toEqual({ 'app.kubernetes.io/name': 'webhook-normaliser' });
    }
    const production = report.rendered.production ?? [];
    expect(find(production, 'Ingress', 'webhook').spec.rules[0].http.paths[0].backend.service.name).toBe('webhook');
    // The receiver scales on CPU past the partition count; the normaliser, a consumer, up to it.
    expect(find(production, 'HorizontalPodAutoscaler', 'webhook').spec.maxReplicas).toBe(20);
    expect(find(production, 'HorizontalPodAutoscaler', 'webhook-normaliser').spec.maxReplicas).toBe(12);
    expect(find(report.rendered.staging ?? [], 'HorizontalPodAutoscaler', 'webhook-normaliser').spec.maxReplicas).toBe(3);
  });

  it(
    'KEDA replaces the CPU autoscalers of the consumers only (the webhook normaliser included), and scales them up to the production partitions',
    kubectl.options,
    () => {
      const keda = report.rendered['production-keda'] ?? [];
      const scaled = keda
        .filter((o) => o.kind === 'ScaledObject')
        .map((o) => o.metadata.name)
        .sort();
      expect(scaled).toEqual(['analytics', 'dispatcher', 'ingest', 'webhook-normaliser']);
      expect(keda.filter((o) => o.kind === 'HorizontalPodAutoscaler').map((o) => o.metadata.name)).toEqual(['webhook']);
      expect(find(keda, 'ScaledObject', 'dispatcher').spec.maxReplicaCount).toBe(12);
      expect(find(keda, 'ScaledObject', 'dispatcher').metadata.namespace).toBe('wa-production');
      const normaliser = find(keda, 'ScaledObject', 'webhook-normaliser');
      expect(normaliser.spec.maxReplicaCount).toBe(12);
      expect(normaliser.spec.triggers.map((t: { metadata: { consumerGroup: string } }) => t.metadata.consumerGroup)).toEqual(['wa-webhook-normaliser']);
    },
  );

  it('compose runs the same split, and Prometheus scrapes both roles', compose.options, async () => {
    const cmd = await findComposeCommand();
    if (!cmd) throw new Error('no compose implementation');
    const resolved = await composeConfig(join(root, 'docker-compose.yml'), cmd);
    const env = (svc: string) => (resolved.services[svc]?.environment ?? {}) as Record<string, string>;
    expect(env('webhook').NORMALISER_ENABLED).toBe('false');
    expect(env('webhook')).not.toHaveProperty('WEBHOOK_RECEIVER_ENABLED');
    expect(env('webhook-normaliser').WEBHOOK_RECEIVER_ENABLED).toBe('false');
    expect(env('webhook-normaliser')).not.toHaveProperty('NORMALISER_ENABLED');
    expect(resolved.services['webhook-normaliser']?.command).toEqual(resolved.services.webhook?.command);
    expect(resolved.services['webhook-normaliser']?.ports ?? []).toEqual([]);
    const prom = parse(readFileSync(join(root, 'deploy/prometheus/prometheus.yml'), 'utf8')) as {
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    };
    const targets = Object.fromEntries(prom.scrape_configs.map((c) => [c.job_name, c.static_configs.flatMap((st) => st.targets)]));
    expect(targets.webhook).toEqual(['webhook:8083']);
    expect(targets['webhook-normaliser']).toEqual(['webhook-normaliser:8083']);
  });

  it('caps consumer replicas at the partition count of each environment', kubectl.options, () => {
    const partitions = (objects: K8sObject[]) => Number((objects.find((o) => o.metadata.name.startsWith('wa-topics')) as any).data.KAFKA_PARTITIONS);
    const staging = report.rendered.staging ?? [];
    const production = report.rendered.production ?? [];
    expect(partitions(staging)).toBe(3);
    expect(partitions(production)).toBe(12);
    expect(find(staging, 'HorizontalPodAutoscaler', 'dispatcher').spec.maxReplicas).toBe(3);
    expect(find(production, 'HorizontalPodAutoscaler', 'dispatcher').spec.maxReplicas).toBe(12);
  });
});

describe('the validators reject broken manifests', () => {
  it('schema check: a wrong type or a missing required field', kubectl.options, async () => {
    const objects = clone(report.rendered.production ?? []);
    find(objects, 'HorizontalPodAutoscaler', 'ingest').spec.maxReplicas = 'twelve';
    delete find(objects, 'Deployment', 'webhook').spec.template.spec.containers[0].name;
    const problems = await validateAgainstSchemas(objects);
    expect(problems.some((p) => p.startsWith('HorizontalPodAutoscaler/ingest') && p.includes('maxReplicas'))).toBe(true);
    expect(problems.some((p) => (p.startsWith('Deployment/webhook') && p.includes("required property 'name'")) || p.includes('required property name'))).toBe(
      true,
    );
  });

  it('unknown-field check: a misspelt probe field that the JSON schemas let through', kubectl.options, async () => {
    const objects = clone(report.rendered.production ?? []);
    const c = find(objects, 'Deployment', 'dispatcher').spec.template.spec.containers[0];
    c.readinessProbe = { httpGett: c.readinessProbe.httpGet };
    expect(await validateAgainstSchemas(objects)).toEqual([]);
    const strict = await checkUnknownFields(objects, join(root, '.cache/deploy-validate/test-unknown'), root);
    expect(strict).toHaveLength(1);
    expect(strict[0]).toMatch(/^Deployment\/dispatcher .*httpGett/);
  });

  it('policy check: probes, grace period, autoscaling ceiling, env typos, secrets in plain config', kubectl.options, () => {
    const objects = clone(report.rendered.production ?? []);
    const ingest = find(objects, 'Deployment', 'ingest').spec.template.spec;
    delete ingest.containers[0].readinessProbe;
    ingest.terminationGracePeriodSeconds = 20;
    find(objects, 'HorizontalPodAutoscaler', 'dispatcher').spec.maxReplicas = 24;
    const webhookCm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('wa-webhook')) as any;
    webhookCm.data.WEBHOOK_APP_SECRET = 'typo-of-the-plural';
    const analyticsCm = objects.find((o) => o.kind === 'ConfigMap' && o.metadata.name.startsWith('wa-analytics')) as any;
    analyticsCm.data.CLICKHOUSE_PASSWORD = 'in-a-configmap';
    const problems = checkK8sPolicies(objects, policyOptions);
    expect(problems).toEqual(
      expect.arrayContaining([
        'Deployment/ingest: readinessProbe must GET /readyz on 8081',
        'Deployment/ingest: terminationGracePeriodSeconds 20s must exceed preStop 5s + SHUTDOWN_TIMEOUT_MS 25s',
        'Deployment/dispatcher: autoscaler ceiling 24 exceeds the 12 partitions per topic (extra consumers sit idle)',
        'Deployment/webhook: WEBHOOK_APP_SECRET is not a variable of the webhook config schema (typo or stale?)',
        expect.stringMatching(/^Deployment\/analytics: credential CLICKHOUSE_PASSWORD is stored in ConfigMap wa-analytics-/),
      ]),
    );
  });

  it('policy check: the webhook split undone — a role variable dropped, a Service over both roles, the normaliser exposed', kubectl.options, () => {
    const objects = clone(report.rendered.production ?? []);
    const receiver = find(objects, 'Deployment', 'webhook').spec.template.spec.containers[0];
    receiver.env = receiver.env.filter((e: { name: string }) => e.name !== 'NORMALISER_ENABLED');
    const normaliser = find(objects, 'Deployment', 'webhook-normaliser').spec.template.spec.containers[0];
    normaliser.env.find((e: { name: string }) => e.name === 'WEBHOOK_RECEIVER_ENABLED').value = 'true';
    find(objects, 'HorizontalPodAutoscaler', 'webhook-normaliser').spec.maxReplicas = 20;
    find(objects, 'Service', 'webhook').spec.selector = { 'app.kubernetes.io/part-of': 'wa-broadcast' };
    find(objects, 'NetworkPolicy', 'webhook-from-internet').spec.podSelector = {
      matchExpressions: [{ key: 'app.kubernetes.io/name', operator: 'In', values: ['webhook', 'webhook-normaliser'] }],
    };
    const problems = checkK8sPolicies(objects, policyOptions);
    expect(problems).toEqual(
      expect.arrayContaining([
        'Deployment/webhook: NORMALISER_ENABLED must be "false" (got null): the webhook role depends on it',
        'Deployment/webhook-normaliser: WEBHOOK_RECEIVER_ENABLED must be "false" (got "true"): the webhook-normaliser role depends on it',
        'Deployment/webhook-normaliser: autoscaler ceiling 20 exceeds the 12 partitions per topic (extra consumers sit idle)',
        'Deployment/webhook: Service webhook also selects the pods of webhook-normaliser',
        'Deployment/webhook-normaliser: reachable from the internet; only the webhook receiver is public',
      ]),
    );
  });

  it('policy check: a missing required variable and a secret key the example Secret does not document', kubectl.options, () => {
    const objects = clone(report.rendered.production ?? []);
    const c = find(objects, 'Deployment', 'dispatcher').spec.template.spec.containers[0];
    c.env = c.env.filter((e: { name: string }) => e.name !== 'WA_ACCESS_TOKENS');
    c.env.push({ name: 'ADMIN_TOKEN', valueFrom: { secretKeyRef: { name: 'wa-broadcast-secrets', key: 'ADMIN_TOKEN_V2' } } });
    const problems = checkK8sPolicies(objects, policyOptions);
    expect(problems).toContain('Deployment/dispatcher: required variable WA_ACCESS_TOKENS is not set');
    expect(problems).toContain('Deployment/dispatcher: Secret key ADMIN_TOKEN_V2 is not in the example Secret (deploy/k8s/examples)');
  });

  it('policy check: a KEDA trigger on a consumer group the service does not use, and alert rules out of sync', kubectl.options, () => {
    const objects = clone(report.rendered['production-keda'] ?? []);
    find(objects, 'ScaledObject', 'dispatcher').spec.triggers[0].metadata.consumerGroup = 'wa-dispatch.auth';
    const rule = find(objects, 'PrometheusRule', 'wa-broadcast');
    rule.spec.groups[0].rules[0].for = '1h';
    const problems = checkK8sPolicies(objects, policyOptions);
    expect(problems).toContain(
      'Deployment/dispatcher: KEDA trigger consumerGroup wa-dispatch.auth is not a consumer group of the dispatcher service (wa-dispatcher)',
    );
    expect(problems).toContain('PrometheusRule groups differ from deploy/prometheus/alerts.yml: run `npm run deploy:sync-rules`');
  });

  it('network policy evaluation: the flows exist and nothing else reaches the internet', kubectl.options, () => {
    const objects = report.rendered.production ?? [];
    const policies = objects.filter((o) => o.kind === 'NetworkPolicy');
    const pod = (name: string, port: number) => ({
      labels: { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'wa-broadcast' },
      namedPorts: { http: port },
    });
    expect(allowsTraffic(policies, pod('webhook', 8083), 'Ingress', { kind: 'internet' }, 8083)).toBe(true);
    expect(allowsTraffic(policies, pod('ingest', 8081), 'Ingress', { kind: 'internet' }, 8081)).toBe(false);
    expect(allowsTraffic(policies, pod('dispatcher', 8082), 'Egress', { kind: 'internet' }, 443)).toBe(true);
    expect(allowsTraffic(policies, pod('dispatcher', 8082), 'Egress', { kind: 'external', ip: '10.1.2.3' }, 443)).toBe(false);
    expect(allowsTraffic(policies, pod('webhook', 8083), 'Egress', { kind: 'internet' }, 443)).toBe(false);
    expect(allowsTraffic(policies, pod('analytics', 8084), 'Egress', { kind: 'external', ip: '10.1.2.3' }, 6379)).toBe(false);
    expect(allowsTraffic(policies, pod('analytics', 8084), 'Egress', { kind: 'external', ip: '10.1.2.3' }, 8123)).toBe(true);

    // The split: only the receiver is public; only the normaliser (of the two) reaches Redis.
    expect(allowsTraffic(policies, pod('webhook-normaliser', 8083), 'Ingress', { kind: 'internet' }, 8083)).toBe(false);
    expect(allowsTraffic(policies, pod('webhook-normaliser', 8083), 'Egress', { kind: 'external', ip: '10.1.2.3' }, 6379)).toBe(true);
    expect(allowsTraffic(policies, pod('webhook-normaliser', 8083), 'Egress', { kind: 'external', ip: '10.1.2.3' }, 9092)).toBe(true);
    expect(allowsTraffic(policies, pod('webhook', 8083), 'Egress', { kind: 'external', ip: '10.1.2.3' }, 6379)).toBe(false);
    expect(allowsTraffic(policies, pod('webhook', 8083), 'Egress', { kind: 'external', ip: '10.1.2.3' }, 9092)).toBe(true);

    const opened = clone(objects);
    const withoutDeny = opened.filter((o) => !(o.kind === 'NetworkPolicy' && o.metadata.name === 'default-deny-all'));
    expect(checkK8sPolicies(withoutDeny, policyOptions)).toContain('no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)');
  });

  it('compose: the real implementation rejects an invalid file; the policies catch a weakened one', compose.options, async () => {
    const cmd = await findComposeCommand();
    expect(cmd, 'docker compose or docker-compose must be installed (.ci/run installs it)').toBeDefined();
    if (!cmd) return;
    const dir = mkdtempSync(join(tmpdir(), 'wa-compose-'));
    const raw = readRawCompose(join(root, 'docker-compose.yml')).value;

    const broken = clone(raw) as any;
    broken.services.dispatcher.depends_on = { 'no-such-service': { condition: 'service_healthy' } };
    writeFileSync(join(dir, 'broken.yml'), stringify(broken, { version: '1.1' }));
    await expect(composeConfig(join(dir, 'broken.yml'), cmd)).rejects.toThrow(/no-such-service/);

    const badSchema = clone(raw) as any;
    badSchema.services.redis.restart_policy = 'always';
    expect(validateComposeSchema(badSchema).some((p) => p.includes('/services/redis'))).toBe(true);

    const weak = clone(raw) as any;
    weak.services.redis.command = ['redis-server'];
    weak.services.ingest.stop_grace_period = '10s';
    weak.services.webhook.healthcheck = { test: ['CMD', 'true'] };
    weak.services.webhook.environment.WEBHOOK_VERIFY_TOKEN = 'hunter2';
    weak.services.ingest.ports = ['0.0.0.0:8081:8081'];
    delete weak.services['webhook-normaliser'].environment.WEBHOOK_RECEIVER_ENABLED;
    delete weak.services['webhook-normaliser'].depends_on.redis;
    writeFileSync(join(dir, 'weak.yml'), stringify(weak, { version: '1.1' }));
    const resolved = await composeConfig(join(dir, 'weak.yml'), cmd);
    const { specs } = await loadServiceEnvSpecs(root);
    const problems = checkComposePolicies(resolved, weak as ComposeFile, root, specs);
    expect(problems).toEqual(
      expect.arrayContaining([
        'compose redis: AOF is off (--appendonly yes)',
        'compose ingest: stop_grace_period 10s must exceed SHUTDOWN_TIMEOUT_MS 25000 ms',
        'compose webhook: healthcheck must probe /readyz on 8083',
        'compose webhook: WEBHOOK_VERIFY_TOKEN must be required from the environment (${WEBHOOK_VERIFY_TOKEN:?message}), not defaulted or literal',
        'compose ingest: published port "0.0.0.0:8081:8081" must bind 127.0.0.1',
        'compose webhook: WEBHOOK_VERIFY_TOKEN is a credential but does not come from a Secret',
        'compose webhook-normaliser: WEBHOOK_RECEIVER_ENABLED must be "false" (got null): the webhook-normaliser role depends on it',
        'compose webhook-normaliser: must wait for redis to be healthy',
      ]),
    );
  });

  it("compose sim profile: the simulator must accept the dispatcher's tokens and sign with a secret the webhook knows", compose.options, async () => {
    const cmd = await findComposeCommand();
    if (!cmd) throw new Error('no compose implementation');
    const resolved = await composeConfig(join(root, 'docker-compose.yml'), cmd);
    expect(checkSimWiring(root, resolved)).toEqual([]);
    const drifted = clone(resolved) as any;
    drifted.services.webhook.environment.WEBHOOK_APP_SECRETS = 'primary=another-secret';
    drifted.services.dispatcher.environment.WA_ACCESS_TOKENS = '102290129340398=another-token';
    expect(checkSimWiring(root, drifted)).toEqual([
      "compose webhook: the default WEBHOOK_APP_SECRETS does not verify the simulator's signatures",
      "compose dispatcher: the default WA_ACCESS_TOKENS are not the simulator's tokens",
    ]);
  });

  it('grafana: a dashboard panel on a datasource that is not provisioned is reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-dash-'));
    writeFileSync(
      join(dir, 'a.json'),
      JSON.stringify({ panels: [{ datasource: { type: 'prometheus', uid: 'prometheus' } }, { targets: [{ datasource: { uid: 'clickhouse' } }] }] }),
    );
    expect(checkDashboards(dir, new Set(['prometheus']))).toEqual(['grafana a.json: datasource uid "clickhouse" is not provisioned']);
    expect(checkDashboards(dir, new Set(['prometheus', 'clickhouse']))).toEqual([]);
  });

  it('Dockerfile: a workspace missing from the deps stage is reported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'wa-dockerfile-'));
    const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { workspaces: string[] };
    pkg.workspaces.push('tools/new-tool');
    writeFileSync(join(dir, 'package.json'), JSON.stringify(pkg));
    cpSync(join(root, 'Dockerfile'), join(dir, 'Dockerfile'));
    expect(checkDockerfile(dir)).toEqual(['Dockerfile: workspace tools/new-tool is not copied into the deps stage (npm install would fail or miss it)']);
    writeFileSync(join(dir, 'Dockerfile'), readFileSync(join(root, 'Dockerfile'), 'utf8').replace('USER 1000:1000', 'USER root'));
    expect(checkDockerfile(dir)).toContain('Dockerfile: the runtime stage must switch to a non-root USER');
  });
});
