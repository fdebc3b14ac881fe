import type { K8sObject } from './k8s-schema';
import { checkRoleEnv, checkServiceEnv, isSecretName, SERVICE_PORTS, WORKLOADS, type ServiceEnvSpec, type ServiceName } from './service-env';

/* Loose views of the fields the policies read; the schema check has already vetted their shapes. */
interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string }; configMapKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet?: { path?: string; port?: number | string };
}
interface Container {
  name: string;
  image?: string;
  args?: string[];
  ports?: { name?: string; containerPort: number }[];
  env?: EnvVar[];
  envFrom?: { configMapRef?: { name: string }; secretRef?: { name: string } }[];
  readinessProbe?: Probe;
  livenessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: { exec?: { command?: string[] }; sleep?: { seconds: number } } };
  resources?: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext?: { readOnlyRootFilesystem?: boolean; allowPrivilegeEscalation?: boolean; runAsNonRoot?: boolean; capabilities?: { drop?: string[] } };
  volumeMounts?: { name: string; mountPath: string }[];
}
interface PodSpec {
  containers: Container[];
  terminationGracePeriodSeconds?: number;
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  volumes?: { name: string; emptyDir?: object; configMap?: { name: string }; secret?: { secretName: string } }[];
}
interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}
interface NetworkPolicyPeer {
  ipBlock?: { cidr: string; except?: string[] };
  namespaceSelector?: LabelSelector;
  podSelector?: LabelSelector;
}
interface NetworkPolicyRule {
  from?: NetworkPolicyPeer[];
  to?: NetworkPolicyPeer[];
  ports?: { protocol?: string; port?: number | string }[];
}
interface NetworkPolicySpec {
  podSelector: LabelSelector;
  policyTypes?: string[];
  ingress?: NetworkPolicyRule[];
  egress?: NetworkPolicyRule[];
}

export const SECRET_NAME = 'wa-broadcast-secrets';

const spec = <T>(o: K8sObject): T => (o as unknown as { spec: T }).spec;
const data = (o: K8sObject): Record<string, string> => (o as unknown as { data?: Record<string, string> }).data ?? {};

export function matchesSelector(selector: LabelSelector | undefined, labels: Readonly<Record<string, string>>): boolean {
  if (!selector) return false;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const has = e.key in labels;
    const value = labels[e.key];
    if (e.operator === 'In' && !(has && e.values?.includes(value ?? ''))) return false;
    if (e.operator === 'NotIn' && has && e.values?.includes(value ?? '')) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

/** A peer the evaluator can ask about: a public address, or a pod in a labelled namespace. */
export type Peer =
  | { kind: 'internet' }
  | { kind: 'external'; ip: string }
  | { kind: 'pod'; sameNamespace: boolean; namespaceLabels: Record<string, string>; podLabels: Record<string, string> };

function ipInCidr(ip: string, cidr: string): boolean {
  if (ip.includes(':') !== cidr.includes(':')) return false;
  if (ip.includes(':')) return cidr === '::/0';
  const [base = '', bitsText = '32'] = cidr.split('/');
  const bits = Number(bitsText);
  const toInt = (a: string) => a.split('.').reduce((acc, p) => (acc << 8) + Number(p), 0) >>> 0;
  const mask = bits === 0 ? 0 : (~0 << (32 - bits)) >>> 0;
  return (toInt(ip) & mask) >>> 0 === (toInt(base) & mask) >>> 0;
}

function peerMatches(rulePeers: NetworkPolicyPeer[] | undefined, peer: Peer): boolean {
  if (rulePeers === undefined || rulePeers.length === 0) return true;
  return rulePeers.some((p) => {
    if (p.ipBlock) {
      const ip = peer.kind === 'internet' ? '8.8.8.8' : peer.kind === 'external' ? peer.ip : undefined;
      return ip !== undefined && ipInCidr(ip, p.ipBlock.cidr) && !(p.ipBlock.except ?? []).some((c) => ipInCidr(ip, c));
    }
    if (peer.kind !== 'pod') return false;
    // Without a namespaceSelector a podSelector means pods of the policy's own namespace.
    const nsOk = p.namespaceSelector ? matchesSelector(p.namespaceSelector, peer.namespaceLabels) : peer.sameNamespace;
    const podOk = p.podSelector ? matchesSelector(p.podSelector, peer.podLabels) : true;
    return nsOk && podOk;
  });
}

/**
 * Evaluates NetworkPolicy semantics: a direction is open for a pod if no policy of that type selects
 * it, or if any selecting policy has a rule admitting the peer and port (named ports resolved
 * against the pod's container ports).
 */
export function allowsTraffic(
  policies: readonly K8sObject[],
  pod: { labels: Record<string, string>; namedPorts: Record<string, number> },
  direction: 'Ingress' | 'Egress',
  peer: Peer,
  port: number,
  protocol = 'TCP',
): boolean {
  const selecting = policies
    .map((p) => spec<NetworkPolicySpec>(p))
    .filter((s) => matchesSelector(s.podSelector, pod.labels) && (s.policyTypes ?? ['Ingress']).includes(direction));
  if (selecting.length === 0) return true;
  return selecting.some((s) =>
    (direction === 'Ingress' ? s.ingress : s.egress)?.some((rule) => {
      const portOk =
        !rule.ports ||
        rule.ports.some((p) => {
          const proto = p.protocol ?? 'TCP';
          const num = typeof p.port === 'string' ? pod.namedPorts[p.port] : p.port;
          return proto === protocol && (p.port === undefined || num === port);
        });
      return portOk && peerMatches(direction === 'Ingress' ? rule.from : rule.to, peer);
    }),
  );
}

/** JSON with object keys sorted: kustomize re-orders keys, and order carries no meaning here. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

function preStopMs(c: Container): number {
  const pre = c.lifecycle?.preStop;
  if (pre?.sleep) return pre.sleep.seconds * 1000;
  const cmd = pre?.exec?.command ?? [];
  const i = cmd.indexOf('sleep');
  return i >= 0 ? Number(cmd[i + 1] ?? 0) * 1000 : 0;
}

export interface PolicyOptions {
  envSpecs: ReadonlyMap<ServiceName, ServiceEnvSpec>;
  /** Secret keys documented in the example Secret manifest. */
  documentedSecretKeys: ReadonlySet<string>;
  /** Alert rule groups of deploy/prometheus/alerts.yml, which the PrometheusRule must carry. */
  alertGroups: unknown[] | undefined;
}

/** Checks a rendered overlay for what a schema cannot see. Returns one line per problem. */
export function checkK8sPolicies(objects: readonly K8sObject[], options: PolicyOptions): string[] {
  const problems: string[] = [];
  const byKind = (kind: string) => objects.filter((o) => o.kind === kind);
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const configMaps = new Map(byKind('ConfigMap').map((c) => [c.metadata.name, data(c)]));
  const policies = byKind('NetworkPolicy');
  const ns = byKind('Namespace')[0];
  const nsName = ns?.metadata.name;
  if (!ns) problems.push('no Namespace object: an overlay must create its namespace');
  for (const o of objects) {
    if (o.kind !== 'Namespace' && o.metadata.namespace !== nsName) problems.push(`${o.kind}/${o.metadata.name}: not in namespace ${nsName}`);
  }
  if (byKind('Secret').length > 0) problems.push('a Secret is rendered: secrets are created by the operator, never shipped in the manifests');

  const topics = [...configMaps.entries()].find(([name]) => name.startsWith('wa-topics'))?.[1];
  const partitions = Number(topics?.KAFKA_PARTITIONS);
  if (!Number.isInteger(partitions) || partitions < 1) problems.push('ConfigMap wa-topics has no KAFKA_PARTITIONS');

  const denyAll = policies.some((p) => {
    const s = spec<NetworkPolicySpec>(p);
    return (
      Object.keys(s.podSelector ?? {}).length === 0 &&
      !s.ingress &&
      !s.egress &&
      (s.policyTypes ?? []).includes('Ingress') &&
      (s.policyTypes ?? []).includes('Egress')
    );
  });
  if (!denyAll) problems.push('no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)');

  // Pod labels of every workload, so a Service selecting a neighbour's pods (say, the public webhook
  // Service picking up normaliser pods) is caught.
  const podLabelsOf = new Map(
    WORKLOADS.flatMap((w) => {
      const d = find('Deployment', w.name);
      return d ? [[w.name, spec<{ template: { metadata: { labels: Record<string, string> } } }>(d).template.metadata.labels] as const] : [];
    }),
  );

  for (const workload of WORKLOADS) {
    const { name, service: svc } = workload;
    const where = `Deployment/${name}`;
    const dep = find('Deployment', name);
    if (!dep) {
      problems.push(`${where}: missing`);
      continue;
    }
    const depSpec = spec<{ selector: LabelSelector; template: { metadata: { labels: Record<string, string> }; spec: PodSpec } }>(dep);
    const pod = depSpec.template.spec;
    const podLabels = depSpec.template.metadata.labels;
    const c = pod.containers[0];
    if (!c) {
      problems.push(`${where}: no container`);
      continue;
    }
    const port = SERVICE_PORTS[svc];
    const namedPorts = Object.fromEntries((c.ports ?? []).filter((p) => p.name).map((p) => [p.name as string, p.containerPort]));
    if (namedPorts.http !== port) problems.push(`${where}: container port "http" is ${namedPorts.http}, expected ${port}`);
    if (!c.args?.some((a) => a === `services/${svc}/src/main.ts`)) problems.push(`${where}: does not run services/${svc}/src/main.ts`);
    if (!c.image || c.image === 'wa-broadcast' || !c.image.includes(':'))
      problems.push(`${where}: image ${c.image} is not pinned by the overlay (images: newName/newTag)`);

    const probePort = (p: Probe | undefined) => (typeof p?.httpGet?.port === 'string' ? namedPorts[p.httpGet.port] : p?.httpGet?.port);
    if (c.readinessProbe?.httpGet?.path !== '/readyz' || probePort(c.readinessProbe) !== port)
      problems.push(`${where}: readinessProbe must GET /readyz on ${port}`);
    if (c.livenessProbe?.httpGet?.path !== '/healthz' || probePort(c.livenessProbe) !== port)
      problems.push(`${where}: livenessProbe must GET /healthz on ${port}`);
    if (!c.resources?.requests?.cpu || !c.resources.requests.memory || !c.resources.limits?.memory)
      problems.push(`${where}: cpu/memory requests and a memory limit are required`);

    // Environment as the container will see it.
    const env = new Map<string, { fromSecret: boolean; value?: string }>();
    for (const ref of c.envFrom ?? []) {
      if (ref.configMapRef) {
        const cm = configMaps.get(ref.configMapRef.name);
        if (!cm) problems.push(`${where}: envFrom ConfigMap ${ref.configMapRef.name} is not in the manifests`);
        for (const [k, v] of Object.entries(cm ?? {})) {
          env.set(k, { fromSecret: false, value: v });
          // Even when an env entry from a Secret overrides it, the value sits in a readable ConfigMap.
          if (isSecretName(k)) problems.push(`${where}: credential ${k} is stored in ConfigMap ${ref.configMapRef.name}`);
        }
      }
      if (ref.secretRef) problems.push(`${where}: envFrom a whole Secret hides which keys it needs; use secretKeyRef`);
    }
    for (const e of c.env ?? []) {
      const sk = e.valueFrom?.secretKeyRef;
      if (sk) {
        if (sk.name !== SECRET_NAME) problems.push(`${where}: ${e.name} reads Secret ${sk.name}, expected ${SECRET_NAME}`);
        if (!options.documentedSecretKeys.has(sk.key)) problems.push(`${where}: Secret key ${sk.key} is not in the example Secret (deploy/k8s/examples)`);
      }
      const ck = e.valueFrom?.configMapKeyRef;
      if (ck && !configMaps.has(ck.name)) problems.push(`${where}: ConfigMap ${ck.name} is not in the manifests`);
      env.set(e.name, { fromSecret: Boolean(sk), ...(e.value !== undefined ? { value: e.value } : {}) });
    }
    const envSpec = options.envSpecs.get(svc);
    if (envSpec) problems.push(...checkServiceEnv(where, envSpec, env));
    problems.push(...checkRoleEnv(where, workload, env));
    if (env.get('HTTP_PORT')?.value !== String(port)) problems.push(`${where}: HTTP_PORT must be ${port} to match the container port`);

    // Graceful termination: preStop, then the service's own bounded shutdown, then SIGKILL.
    const shutdownMs = Number(env.get('SHUTDOWN_TIMEOUT_MS')?.value ?? 25_000);
    const graceMs = (pod.terminationGracePeriodSeconds ?? 30) * 1000;
    const pre = preStopMs(c);
    if (pre === 0) problems.push(`${where}: no preStop delay (endpoints are removed asynchronously)`);
    if (graceMs <= shutdownMs + pre)
      problems.push(
        `${where}: terminationGracePeriodSeconds ${graceMs / 1000}s must exceed preStop ${pre / 1000}s + SHUTDOWN_TIMEOUT_MS ${shutdownMs / 1000}s`,
      );

    // Hardening.
    if (pod.securityContext?.runAsNonRoot !== true) problems.push(`${where}: pod securityContext.runAsNonRoot must be true`);
    if (c.securityContext?.readOnlyRootFilesystem !== true) problems.push(`${where}: readOnlyRootFilesystem must be true`);
    if (c.securityContext?.allowPrivilegeEscalation !== false) problems.push(`${where}: allowPrivilegeEscalation must be false`);
    if (!c.securityContext?.capabilities?.drop?.includes('ALL')) problems.push(`${where}: capabilities must drop ALL`);
    const tmp = c.volumeMounts?.find((m) => m.mountPath === '/tmp');
    if (!tmp || !pod.volumes?.some((v) => v.name === tmp.name && v.emptyDir))
      problems.push(`${where}: /tmp must be a writable emptyDir (tsx compiles there; the root fs is read-only)`);
    for (const v of pod.volumes ?? [])
      if (v.configMap && !configMaps.has(v.configMap.name)) problems.push(`${where}: volume ConfigMap ${v.configMap.name} is not in the manifests`);

    // Service, PDB, ServiceMonitor, autoscaling.
    const service = find('Service', name);
    const svcSpec = service
      ? spec<{ selector: Record<string, string>; ports: { name?: string; port: number; targetPort?: number | string }[] }>(service)
      : undefined;
    if (
      !svcSpec ||
      !matchesSelector({ matchLabels: svcSpec.selector }, podLabels) ||
      !svcSpec.ports.some((p) => p.name === 'http' && p.port === port && (p.targetPort === 'http' || p.targetPort === port))
    ) {
      problems.push(`${where}: needs a Service selecting its pods with port "http" ${port}`);
    }
    for (const [other, labels] of podLabelsOf) {
      if (other !== name && svcSpec && matchesSelector({ matchLabels: svcSpec.selector }, labels))
        problems.push(`${where}: Service ${name} also selects the pods of ${other}`);
    }
    const pdb = byKind('PodDisruptionBudget').find((p) => matchesSelector(spec<{ selector: LabelSelector }>(p).selector, podLabels));
    if (!pdb) problems.push(`${where}: no PodDisruptionBudget selects its pods`);
    const monitor = byKind('ServiceMonitor').find(
      (m) => service && matchesSelector(spec<{ selector: LabelSelector }>(m).selector, service.metadata.labels ?? {}),
    );
    const endpoints = monitor ? spec<{ endpoints: { port?: string; path?: string }[] }>(monitor).endpoints : [];
    if (!endpoints.some((e) => e.port === 'http' && (e.path ?? '/metrics') === '/metrics'))
      problems.push(`${where}: no ServiceMonitor scrapes /metrics on port http`);

    const hpas = byKind('HorizontalPodAutoscaler').filter((h) => spec<{ scaleTargetRef: { kind: string; name: string } }>(h).scaleTargetRef.name === name);
    const scaled = byKind('ScaledObject').filter((s) => spec<{ scaleTargetRef: { name: string } }>(s).scaleTargetRef.name === name);
    if (hpas.length + scaled.length !== 1)
      problems.push(`${where}: needs exactly one autoscaler (HPA or KEDA ScaledObject), has ${hpas.length + scaled.length}`);
    const max = hpas[0]
      ? spec<{ maxReplicas: number }>(hpas[0]).maxReplicas
      : scaled[0]
        ? (spec<{ maxReplicaCount?: number }>(scaled[0]).maxReplicaCount ?? 100)
        : 0;
    const min = hpas[0]
      ? (spec<{ minReplicas?: number }>(hpas[0]).minReplicas ?? 1)
      : scaled[0]
        ? (spec<{ minReplicaCount?: number }>(scaled[0]).minReplicaCount ?? 0)
        : 0;
    if (workload.consumer && max > partitions)
      problems.push(`${where}: autoscaler ceiling ${max} exceeds the ${partitions} partitions per topic (extra consumers sit idle)`);
    if (min > max) problems.push(`${where}: autoscaler minimum ${min} above maximum ${max}`);
    // KEDA reports zero lag for a group nobody consumes with: the names must be the code's groups
    // (a *GROUP* variable's default, or that default plus ".<lane>").
    const groupDefaults = [...(envSpec?.defaults ?? new Map<string, string>())].filter(([k]) => k.includes('GROUP')).map(([, v]) => v);
    for (const so of scaled) {
      for (const t of spec<{ triggers: { type: string; metadata: Record<string, string> }[] }>(so).triggers) {
        const g = t.metadata.consumerGroup;
        if (t.type === 'kafka' && envSpec && !groupDefaults.some((d) => g === d || g?.startsWith(`${d}.`))) {
          problems.push(`${where}: KEDA trigger consumerGroup ${g} is not a consumer group of the ${svc} service (${groupDefaults.join(', ')})`);
        }
      }
    }

    // Network flows this service needs, and one it must not have.
    const self = { labels: podLabels, namedPorts };
    const flows: [string, boolean][] = [
      [
        'DNS to kube-dns',
        allowsTraffic(
          policies,
          self,
          'Egress',
          { kind: 'pod', sameNamespace: false, namespaceLabels: { 'kubernetes.io/metadata.name': 'kube-system' }, podLabels: { 'k8s-app': 'kube-dns' } },
          53,
          'UDP',
        ),
      ],
      ['egress to Kafka :9092', allowsTraffic(policies, self, 'Egress', { kind: 'external', ip: '10.20.0.5' }, 9092)],
      [
        'scrape from the monitoring namespace',
        allowsTraffic(
          policies,
          self,
          'Ingress',
          {
            kind: 'pod',
            sameNamespace: false,
            namespaceLabels: { 'kubernetes.io/metadata.name': 'monitoring' },
            podLabels: { 'app.kubernetes.io/name': 'prometheus' },
          },
          port,
        ),
      ],
    ];
    if (workload.redis) flows.push(['egress to Redis :6379', allowsTraffic(policies, self, 'Egress', { kind: 'external', ip: '10.20.0.6' }, 6379)]);
    if (svc === 'analytics') flows.push(['egress to ClickHouse :8123', allowsTraffic(policies, self, 'Egress', { kind: 'external', ip: '10.20.0.7' }, 8123)]);
    if (workload.public) flows.push(['ingress from the internet (Meta)', allowsTraffic(policies, self, 'Ingress', { kind: 'internet' }, port)]);
    if (svc === 'dispatcher') flows.push(['egress to the Graph API :443', allowsTraffic(policies, self, 'Egress', { kind: 'internet' }, 443)]);
    for (const [what, ok] of flows) if (!ok) problems.push(`${where}: NetworkPolicies block ${what}`);
    if (svc !== 'dispatcher' && allowsTraffic(policies, self, 'Egress', { kind: 'internet' }, 443))
      problems.push(`${where}: may reach the internet on 443; only the dispatcher calls the Graph API`);
    if (!workload.public && allowsTraffic(policies, self, 'Ingress', { kind: 'internet' }, port))
      problems.push(`${where}: reachable from the internet; only the webhook receiver is public`);
    if (!workload.redis && allowsTraffic(policies, self, 'Egress', { kind: 'external', ip: '10.20.0.6' }, 6379))
      problems.push(`${where}: may reach Redis; it has no use for it`);
  }

  const rules = byKind('PrometheusRule');
  if (rules.length !== 1) problems.push(`expected one PrometheusRule, found ${rules.length}`);
  else if (options.alertGroups === undefined || options.alertGroups.length === 0)
    problems.push('deploy/prometheus/alerts.yml is missing or has no rule groups: the PrometheusRule has no source');
  else if (canonical(spec<{ groups: unknown[] }>(rules[0] as K8sObject).groups) !== canonical(options.alertGroups)) {
    problems.push('PrometheusRule groups differ from deploy/prometheus/alerts.yml: run `npm run deploy:sync-rules`');
  }
  return problems;
}
