import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Ajv, type ValidateFunction } from 'ajv';
import { ScaledObject, TriggerAuthentication } from '@kubernetes-models/keda/keda.sh/v1alpha1';
import { Service as KnativeService } from '@kubernetes-models/knative/serving.knative.dev/v1';
import { PodMonitor, ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1';
import { Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2';
import { Job } from 'kubernetes-models/batch/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { ConfigMap, Namespace, Service } from 'kubernetes-models/v1';
import { parseAllDocuments } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configEntries, configKeys } from '../../shared/config.js';
import { infraSchema } from '../../shared/env.js';
import { allTopics, deadLetterTopic, functionSubscriptions, type ConsumerName } from '../../shared/events/topics.js';
import { createMetrics } from '../../shared/observability/metrics.js';
import { isLoopback } from '../../shared/http-api/auth/from-infra.js';
import { tracingProblems } from './helpers/tracing-env.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- manifests are untyped YAML trees */
type Doc = Record<string, any>;
interface Loaded {
  file: string;
  doc: Doc;
}

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const k8s = join(root, 'k8s');
const yamlFiles = (dir: string): string[] =>
  readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? yamlFiles(join(dir, e.name)) : /\.ya?ml$/.test(e.name) ? [join(dir, e.name)] : [],
  );
const parseFile = (path: string): Doc[] =>
  parseAllDocuments(readFileSync(path, 'utf8'))
    .map((d) => {
      if (d.errors.length > 0) throw new Error(`${path}: ${d.errors.map((e) => e.message).join('; ')}`);
      return d.toJS() as Doc;
    })
    .filter((d) => d !== null);
const docs: Loaded[] = yamlFiles(k8s).flatMap((path) => parseFile(path).map((doc) => ({ file: relative(k8s, path), doc })));
const clone = <T>(v: T): T => structuredClone(v);

// Validators: the official schemas shipped by kubernetes-models / @kubernetes-models/* (generated from the
// Kubernetes OpenAPI spec and the KEDA, Knative and prometheus-operator CRDs), and ours under k8s/schemas.
const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false });
const ownSchema = (file: string): ValidateFunction => ajv.compile(JSON.parse(readFileSync(join(k8s, 'schemas', file), 'utf8')) as object);
const viaModel = (Model: new (data: any) => { validate(): void }) => (doc: Doc) => new Model(doc).validate();
const viaAjv = (check: ValidateFunction) => (doc: Doc) => {
  if (!check(doc)) throw new Error(ajv.errorsText(check.errors));
};
const validators: Record<string, (doc: Doc) => void> = {
  'v1/Namespace': viaModel(Namespace),
  'v1/Service': viaModel(Service),
  'v1/ConfigMap': viaModel(ConfigMap),
  'apps/v1/Deployment': viaModel(Deployment),
  'apps/v1/StatefulSet': viaModel(StatefulSet),
  'batch/v1/Job': viaModel(Job),
  'policy/v1/PodDisruptionBudget': viaModel(PodDisruptionBudget),
  'autoscaling/v2/HorizontalPodAutoscaler': viaModel(HorizontalPodAutoscaler),
  'monitoring.coreos.com/v1/ServiceMonitor': viaModel(ServiceMonitor),
  'monitoring.coreos.com/v1/PodMonitor': viaModel(PodMonitor),
  'keda.sh/v1alpha1/ScaledObject': viaModel(ScaledObject),
  'keda.sh/v1alpha1/TriggerAuthentication': viaModel(TriggerAuthentication),
  'serving.knative.dev/v1/Service': viaModel(KnativeService),
  'sources.knative.dev/v1beta1/KafkaSource': viaAjv(ownSchema('kafkasource.sources.knative.dev.v1beta1.json')),
  'eventing.knative.dev/v1alpha1/KafkaSink': viaAjv(ownSchema('kafkasink.eventing.knative.dev.v1alpha1.json')),
  'kustomize.config.k8s.io/v1beta1/Kustomization': viaAjv(ownSchema('kustomization.json')),
  'kustomize.config.k8s.io/v1alpha1/Component': viaAjv(ownSchema('component.json')),
};
/** Schema errors of one document, or [] when it is valid. */
function validate(doc: Doc): string[] {
  const check = validators[`${doc.apiVersion}/${doc.kind}`];
  if (!check) return [`no schema for ${doc.apiVersion}/${doc.kind}`];
  try {
    check(doc);
    return [];
  } catch (error) {
    return [error instanceof Error ? error.message : String(error)];
  }
}

const ofKind = (kind: string, dir?: string, apiVersion?: string): Loaded[] =>
  docs.filter(({ file, doc }) => doc.kind === kind && (!dir || file.startsWith(`${dir}/`)) && (!apiVersion || doc.apiVersion === apiVersion));
const one = (kind: string, name: string, apiVersion?: string): Doc => {
  const found = docs.filter(({ doc }) => doc.kind === kind && doc.metadata?.name === name && (!apiVersion || doc.apiVersion === apiVersion));
  expect(found, `${kind} ${name}`).toHaveLength(1);
  return found[0]!.doc;
};
const names = Object.keys(functionSubscriptions) as ConsumerName[];
const partitions = infraSchema.parse({}).KAFKA_PARTITIONS;

describe('every manifest under k8s/ passes its schema', () => {
  it('found the manifests', () => {
    expect(docs.length).toBeGreaterThan(20);
  });
  it.each(docs.map((d) => [`${d.file} ${d.doc.kind}/${d.doc.metadata?.name ?? ''}`, d.doc] as const))('%s', (_label, doc) => {
    expect(validate(doc)).toEqual([]);
  });
  it('namespaced objects live in amas', () => {
    // Knative's own ConfigMap (a patch, applied to knative-eventing) is the one exception.
    const namespaced = docs.filter(
      ({ file, doc }) => !['Namespace', 'Kustomization', 'Component'].includes(doc.kind) && !file.startsWith('knative/eventing-config/'),
    );
    expect(namespaced.filter(({ doc }) => doc.metadata?.namespace !== 'amas').map(({ file, doc }) => `${file} ${doc.kind}`)).toEqual([]);
  });
});

describe('the validation catches real mistakes', () => {
  const so = one('ScaledObject', 'amas-fn-decompose');
  const mutants: [string, Doc, (d: Doc) => void][] = [
    ['ScaledObject without scaleTargetRef', so, (d) => delete d.spec.scaleTargetRef],
    ['ScaledObject with minReplicaCount "zero"', so, (d) => (d.spec.minReplicaCount = 'zero')],
    ['ScaledObject trigger without type', so, (d) => delete d.spec.triggers[0].type],
    [
      'Deployment with a named containerPort number',
      one('Deployment', 'amas-orchestration'),
      (d) => (d.spec.template.spec.containers[0].ports[0].containerPort = '8000'),
    ],
    ['Deployment without selector', one('Deployment', 'amas-orchestration'), (d) => delete d.spec.selector],
    [
      'HPA with a percentage string',
      one('HorizontalPodAutoscaler', 'amas-orchestration-hpa'),
      (d) => (d.spec.metrics[0].resource.target.averageUtilization = '70%'),
    ],
    ['ServiceMonitor with a numeric port', one('ServiceMonitor', 'amas-orchestration'), (d) => (d.spec.endpoints[0].port = 9090)],
    ['Knative Service with a numeric image', one('Service', 'amas-kn-assign', 'serving.knative.dev/v1'), (d) => (d.spec.template.spec.containers[0].image = 1)],
    ['KafkaSource without topics', one('KafkaSource', 'amas-src-assign'), (d) => delete d.spec.topics],
    ['KafkaSource with a misspelt field', one('KafkaSource', 'amas-src-assign'), (d) => (d.spec.consumerGroupId = 'x')],
    ['KafkaSource with an unknown backoff policy', one('KafkaSource', 'amas-src-assign'), (d) => (d.spec.delivery.backoffPolicy = 'exponentialBackoff')],
    ['a kind nobody validates', so, (d) => (d.apiVersion = 'keda.sh/v2')],
  ];
  it.each(mutants)('%s fails', (_label, original, mutate) => {
    expect(validate(original)).toEqual([]);
    const broken = clone(original);
    mutate(broken);
    expect(validate(broken).length).toBeGreaterThan(0);
  });
});

describe('orchestration base', () => {
  const deployment = one('Deployment', 'amas-orchestration');
  const pod = deployment.spec.template.spec;
  const container = pod.containers[0];

  it('the ConfigMap carries exactly the ORCHESTRATION_* keys of shared/config.ts, with their defaults', () => {
    const data = one('ConfigMap', 'amas-orchestration-config').data as Record<string, string>;
    expect(Object.keys(data).sort()).toEqual([...configKeys].sort());
    for (const key of configKeys) expect(data[key], key).toBe(key === 'ORCHESTRATION_DEMO_AGENTS' ? 'false' : configEntries[key].default);
  });

  it("the Deployment has the guide's replicas, labels, port, probes and resources", () => {
    expect(deployment.spec.replicas).toBe(3);
    expect(pod.containers).toHaveLength(1);
    expect(deployment.spec.template.metadata.labels).toMatchObject({ app: 'amas-orchestration', component: 'orchestration' });
    expect(container.ports).toContainEqual({ name: 'http', containerPort: 8000, protocol: 'TCP' });
    expect(container.livenessProbe).toEqual({
      httpGet: { path: '/health/orchestration', port: 8000 },
      initialDelaySeconds: 90,
      periodSeconds: 30,
      timeoutSeconds: 10,
      failureThreshold: 5,
    });
    expect(container.readinessProbe).toEqual({
      httpGet: { path: '/ready/orchestration', port: 8000 },
      initialDelaySeconds: 45,
      periodSeconds: 10,
      timeoutSeconds: 10,
      failureThreshold: 3,
    });
    expect(container.startupProbe.httpGet).toEqual({ path: '/health/orchestration', port: 8000 });
    expect(container.resources).toEqual({ requests: { cpu: '1000m', memory: '2Gi' }, limits: { cpu: '4000m', memory: '8Gi' } });
  });

  it('the Deployment reads config from the ConfigMap, secrets from amas-secrets, and runs non-root on a read-only root', () => {
    expect(container.envFrom).toEqual([{ configMapRef: { name: 'amas-orchestration-config' } }, { configMapRef: { name: 'amas-tracing-config' } }]);
    const secretRefs = container.env.filter((e: Doc) => e.valueFrom).map((e: Doc) => e.valueFrom.secretKeyRef);
    expect(secretRefs.map((r: Doc) => r.name)).toEqual(['amas-secrets', 'amas-secrets', 'amas-secrets', 'amas-secrets', 'amas-secrets']);
    expect(secretRefs.map((r: Doc) => r.key)).toEqual(expect.arrayContaining(['AMAS_ADMIN_KEY', 'AMAS_MESSAGE_SECRET']));
    const envNames = container.env.map((e: Doc) => e.name);
    for (const server of ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL', 'NEO4J_URL', 'KAFKA_PARTITIONS']) expect(envNames).toContain(server);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000 });
    expect(container.securityContext).toMatchObject({ readOnlyRootFilesystem: true, allowPrivilegeEscalation: false });
  });

  it('the README creates exactly the amas-secrets keys some manifest reads (no SECRET_KEY nobody reads)', () => {
    const readme = readFileSync(join(k8s, 'README.md'), 'utf8');
    const command = readme.slice(readme.indexOf('kubectl create secret generic amas-secrets'));
    const created = [...command.slice(0, command.search(/\n(?![ ]*--from-literal)[^\n]*\n/) + 1).matchAll(/--from-literal=([A-Z0-9_]+)=/g)].map((m) => m[1]!);
    const read = new Set(
      JSON.stringify(docs.map((d) => d.doc))
        .match(/"secretKeyRef":\{"name":"amas-secrets","key":"[A-Z0-9_]+"/g)!
        .map((m) => m.split('"key":"')[1]!.slice(0, -1)),
    );
    expect(created.length).toBeGreaterThan(3);
    expect(created.filter((key) => !read.has(key))).toEqual([]);
    expect([...read].filter((key) => !created.includes(key))).toEqual([]);
  });

  it('the Service and ServiceMonitor expose http and metrics of the pods', () => {
    const svc = one('Service', 'amas-orchestration', 'v1');
    expect(svc.spec.selector).toEqual(deployment.spec.selector.matchLabels);
    expect(svc.spec.ports.map((p: Doc) => [p.name, p.targetPort])).toEqual([
      ['http', 'http'],
      ['metrics', 'http'],
    ]);
    const monitor = one('ServiceMonitor', 'amas-orchestration');
    expect(monitor.spec.selector.matchLabels).toEqual(svc.metadata.labels);
    expect(monitor.spec.endpoints[0]).toMatchObject({ port: 'metrics', path: '/metrics' });
  });

  it("the HPA has the guide's targets and behaviour", () => {
    const hpa = one('HorizontalPodAutoscaler', 'amas-orchestration-hpa');
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'amas-orchestration' });
    expect(hpa.spec.minReplicas).toBe(3);
    const byName = Object.fromEntries(
      hpa.spec.metrics.map((m: Doc) => (m.type === 'Resource' ? [m.resource.name, m.resource.target] : [m.external.metric.name, m.external.target])),
    );
    expect(byName).toEqual({
      cpu: { type: 'Utilization', averageUtilization: 70 },
      memory: { type: 'Utilization', averageUtilization: 80 },
      orchestration_active_workflows: { type: 'AverageValue', averageValue: '10' },
      orchestration_message_queue_depth: { type: 'AverageValue', averageValue: '1000' },
      orchestration_active_agents: { type: 'AverageValue', averageValue: '50' },
    });
    expect(hpa.spec.behavior.scaleUp).toEqual({
      stabilizationWindowSeconds: 60,
      selectPolicy: 'Max',
      policies: [
        { type: 'Percent', value: 50, periodSeconds: 60 },
        { type: 'Pods', value: 3, periodSeconds: 60 },
      ],
    });
    expect(hpa.spec.behavior.scaleDown).toEqual({
      stabilizationWindowSeconds: 300,
      selectPolicy: 'Min',
      policies: [
        { type: 'Percent', value: 10, periodSeconds: 60 },
        { type: 'Pods', value: 1, periodSeconds: 60 },
      ],
    });
  });

  it('the HPA takes the cluster-wide gauges as External metrics, never as Pods metrics every pod reports alike', () => {
    const hpa = one('HorizontalPodAutoscaler', 'amas-orchestration-hpa');
    // orchestration_active_workflows / _message_queue_depth / _active_agents are read from the shared
    // store and bus: each pod reports the whole total, so a per-pod average never falls with more pods.
    expect(hpa.spec.metrics.filter((m: Doc) => m.type === 'Pods')).toEqual([]);
    for (const m of hpa.spec.metrics.filter((m: Doc) => m.type !== 'Resource')) {
      expect(m.type).toBe('External');
      expect(m.external.target.type, m.external.metric.name).toBe('AverageValue');
    }
  });

  it('Kafka keeps its logs in a subdirectory of its volume (an ext4 root holds lost+found)', () => {
    const kafka = one('StatefulSet', 'kafka');
    const container = kafka.spec.template.spec.containers.find((c: Doc) => c.env?.some((e: Doc) => e.name === 'KAFKA_LOG_DIRS'));
    const logDirs = String(container.env.find((e: Doc) => e.name === 'KAFKA_LOG_DIRS').value).split(',');
    const mounts = (container.volumeMounts as Doc[]).map((m) => String(m.mountPath).replace(/\/$/, ''));
    for (const dir of logDirs) {
      expect(
        mounts.some((m) => dir.startsWith(`${m}/`)),
        `${dir} under a mount`,
      ).toBe(true);
      expect(mounts, dir).not.toContain(dir.replace(/\/$/, ''));
    }
  });

  it("the topics Job creates every topic and each function input's dead-letter topic", () => {
    const env = one('Job', 'kafka-topics').spec.template.spec.containers[0].env as Doc[];
    const listed = String(env.find((e) => e.name === 'TOPICS')!.value)
      .split(/\s+/)
      .filter(Boolean)
      .sort();
    expect(listed).toEqual([...allTopics, ...Object.values(functionSubscriptions).map((s) => deadLetterTopic(s.topic))].sort());
  });

  it('every kustomization lists exactly the manifests of its folder, and they exist', () => {
    for (const { file, doc } of ofKind('Kustomization')) {
      const dir = dirname(join(k8s, file));
      const siblings = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f) && f !== 'kustomization.yaml');
      expect([...doc.resources].sort(), file).toEqual(siblings.sort());
    }
  });
});

describe('authentication', () => {
  /** Every container of every workload, with its env (ConfigMap values folded in) and whether it serves the operator API. */
  const containers = docs.flatMap(({ file, doc }) => {
    const spec = doc.spec?.template?.spec ?? doc.spec?.jobTemplate?.spec?.template?.spec;
    return ((spec?.containers ?? []) as Doc[]).map((c) => {
      const fromMaps = ((c.envFrom ?? []) as Doc[]).flatMap((f) =>
        f.configMapRef ? [one('ConfigMap', f.configMapRef.name).data as Record<string, string>] : [],
      );
      const env: Record<string, Doc> = Object.fromEntries((c.env ?? []).map((e: Doc) => [e.name, e]));
      const value = (name: string) => env[name]?.value ?? fromMaps.find((m) => name in m)?.[name];
      // No command runs the image's CMD: main-embedded.ts, which serves the API.
      const servesApi = !c.command || /main-(api|embedded)\.[jt]s/.test(String(c.command.join(' ')));
      return { label: `${file} ${doc.metadata?.name}/${c.name}`, env, value, servesApi };
    });
  });

  it('no container serves the API with AMAS_AUTH=none on a non-loopback HOST, and keys mode reads AMAS_ADMIN_KEY from a Secret', () => {
    const api = containers.filter((c) => c.servesApi);
    expect(api.length).toBeGreaterThan(0);
    for (const c of api) {
      const host = c.value('HOST') ?? '127.0.0.1';
      const auth = c.value('AMAS_AUTH') ?? 'none';
      if (!isLoopback(host)) expect(auth, c.label).not.toBe('none');
      if (auth === 'keys') expect(c.env.AMAS_ADMIN_KEY?.valueFrom?.secretKeyRef, c.label).toMatchObject({ name: 'amas-secrets', key: 'AMAS_ADMIN_KEY' });
    }
    const orchestration = api.find((c) => c.label.includes('amas-orchestration/orchestration'))!;
    expect([orchestration.value('HOST'), orchestration.value('AMAS_AUTH')]).toEqual(['0.0.0.0', 'keys']);
  });
});

describe('scale-to-zero layouts', () => {
  it.each(names)("KEDA scales %s on its code's topic and consumer group", (name) => {
    const so = one('ScaledObject', `amas-fn-${name}`);
    const { topic, groupId } = functionSubscriptions[name];
    expect(so.spec).toMatchObject({ minReplicaCount: 0, scaleTargetRef: { kind: 'Deployment', name: `amas-fn-${name}` } });
    expect(so.spec.maxReplicaCount).toBeLessThanOrEqual(partitions);
    expect(so.spec.triggers).toHaveLength(1);
    const [trigger] = so.spec.triggers;
    expect(trigger.type).toBe('kafka');
    expect(trigger.metadata).toMatchObject({ topic, consumerGroup: groupId, offsetResetPolicy: 'earliest' });
    for (const key of ['bootstrapServers', 'lagThreshold', 'activationLagThreshold']) expect(trigger.metadata[key], key).toMatch(/\S/);
    one('TriggerAuthentication', trigger.authenticationRef.name);
    const target = one('Deployment', `amas-fn-${name}`);
    expect(target.spec.replicas, 'KEDA owns the replica count').toBeUndefined();
    expect(target.spec.template.spec.containers[0].command).toEqual(['node', 'shared/runtime/main-function.js', name]);
  });

  it.each(names)("Knative runs %s from a KafkaSource on its code's topic and group, with retries and a dead-letter sink", (name) => {
    const { topic, groupId } = functionSubscriptions[name];
    const source = one('KafkaSource', `amas-src-${name}`);
    expect(source.spec).toMatchObject({ topics: [topic], consumerGroup: groupId, initialOffset: 'earliest', ordering: 'ordered' });
    expect(source.metadata.annotations).toMatchObject({
      'kafka.eventing.knative.dev/delivery.order': 'ordered',
      'autoscaling.eventing.knative.dev/class': 'keda.autoscaling.knative.dev',
    });
    expect(source.spec.delivery).toMatchObject({ backoffPolicy: 'exponential' });
    expect(source.spec.delivery.retry).toBeGreaterThan(0);
    const dls = source.spec.delivery.deadLetterSink.ref;
    expect(one(dls.kind, dls.name, dls.apiVersion).spec.topic).toBe(deadLetterTopic(topic));
    const sink = source.spec.sink.ref;
    const ksvc = one(sink.kind, sink.name, sink.apiVersion);
    expect(ksvc.spec.template.metadata.annotations['autoscaling.knative.dev/min-scale']).toBe('0');
    expect(ksvc.spec.template.spec.containers[0].command).toEqual(['node', 'shared/runtime/main-function.js', name]);
  });

  it('no workload is scaled by two autoscalers', () => {
    const key = (apiVersion: string, kind: string, name: string) => `${apiVersion}/${kind}/${name}`;
    const keda = ofKind('ScaledObject').map(({ doc: { spec } }) =>
      key(spec.scaleTargetRef.apiVersion ?? 'apps/v1', spec.scaleTargetRef.kind ?? 'Deployment', spec.scaleTargetRef.name),
    );
    const hpa = ofKind('HorizontalPodAutoscaler').map(({ doc: { spec } }) =>
      key(spec.scaleTargetRef.apiVersion, spec.scaleTargetRef.kind, spec.scaleTargetRef.name),
    );
    const knative = ofKind('Service', undefined, 'serving.knative.dev/v1').map(({ doc }) => key('serving.knative.dev/v1', 'Service', doc.metadata.name));
    const kedaViaKnative = ofKind('KafkaSource')
      .filter(({ doc }) => doc.metadata.annotations?.['autoscaling.eventing.knative.dev/class'])
      .map(({ doc }) => key(doc.apiVersion, 'KafkaSource', doc.metadata.name));
    const all = [...keda, ...hpa, ...knative, ...kedaViaKnative];
    expect(all.length).toBe(new Set(all).size);
    expect(ofKind('ScaledObject', 'knative')).toEqual([]);
    expect(docs.filter(({ file, doc }) => file.startsWith('keda/') && String(doc.apiVersion).includes('knative'))).toEqual([]);
    expect(ofKind('Deployment', 'knative')).toEqual([]);
  });
});

describe('Grafana dashboard', () => {
  const raw = one('ConfigMap', 'amas-orchestration-dashboard');
  const json = String(Object.values(raw.data as Record<string, string>)[0]);
  const dashboard = JSON.parse(json) as Doc;
  const exprs: string[] = (dashboard.panels as Doc[]).flatMap((p) => (p.targets ?? []).map((t: Doc) => String(t.expr)));

  it('is labelled for the Grafana sidecar and equals the file provisioned in docker-compose.dev.yml', () => {
    expect(raw.metadata.labels.grafana_dashboard).toBe('1');
    expect(dashboard).toEqual(JSON.parse(readFileSync(join(root, 'deploy/grafana/dashboards/amas-orchestration.json'), 'utf8')));
  });

  it('queries only metrics that shared/observability/metrics.ts registers, with _bucket only on histograms', async () => {
    const registered = new Map((await createMetrics().registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]));
    const used = new Set(exprs.flatMap((e) => e.match(/\borchestration_[a-z_]+/g) ?? []));
    for (const name of used) {
      const base = name.replace(/_bucket$/, '');
      expect(registered.has(base), name).toBe(true);
      if (base !== name) expect(registered.get(base), name).toBe('histogram');
    }
    expect([...registered.keys()].filter((n) => ![...used].some((u) => u.startsWith(n)))).toEqual([]);
  });

  it('shows p50, p95 and p99 of every histogram through histogram_quantile', async () => {
    const histograms = (await createMetrics().registry.getMetricsAsJSON()).filter((m) => String(m.type) === 'histogram').map((m) => m.name);
    for (const h of histograms) {
      for (const q of ['0.5', '0.95', '0.99'])
        expect(
          exprs.some((e) => e.startsWith(`histogram_quantile(${q},`) && e.includes(`${h}_bucket`)),
          `${h} ${q}`,
        ).toBe(true);
    }
  });
});

describe('one image setting for every layout', () => {
  const component = docs.filter(({ doc }) => doc.kind === 'Component');
  it('every kustomization takes its images from the k8s/image component alone', () => {
    expect(component.map(({ file }) => file)).toEqual(['image/kustomization.yaml']);
    const kustomizations = ofKind('Kustomization');
    expect(kustomizations.map(({ file }) => file).sort()).toEqual(['keda/kustomization.yaml', 'knative/kustomization.yaml', 'kustomization.yaml']);
    for (const { file, doc } of kustomizations) {
      expect(doc.images, file).toBeUndefined();
      const included = (doc.components as string[]).map((c) => relative(k8s, join(k8s, dirname(file), c)));
      expect(included, file).toEqual(['image']);
    }
  });

  it('every container image of ours, in every folder, is named by one images entry of the component', () => {
    const names = (component[0]!.doc.images as Doc[]).map((i) => String(i.name));
    const ours = docs.flatMap(({ file, doc }) => {
      const spec = doc.spec?.template?.spec ?? doc.spec?.jobTemplate?.spec?.template?.spec;
      const folder = file.includes('/') ? file.split('/')[0]! : 'base';
      return ((spec?.containers ?? []) as Doc[])
        .map((c) => ({ folder, label: `${file} ${c.name}`, image: String(c.image) }))
        .filter((c) => c.image.startsWith('amas/'));
    });
    expect(new Set(ours.map((c) => c.folder))).toEqual(new Set(['base', 'keda', 'knative']));
    for (const { label, image } of ours)
      expect(
        names.filter((n) => image === n || image.startsWith(`${n}:`) || image.startsWith(`${n}@`)),
        label,
      ).toHaveLength(1);
  });

  it('the README sets the image in k8s/image, not in one layout', () => {
    const readme = readFileSync(join(k8s, 'README.md'), 'utf8');
    expect(readme).toMatch(/cd k8s\/image && kustomize edit set image amas\/orchestration=/);
  });
});

describe('monitoring of the function pods', () => {
  it('a PodMonitor scrapes /metrics on 8080 of every function pod, in both layouts', () => {
    const monitor = one('PodMonitor', 'amas-functions');
    const [endpoint] = monitor.spec.podMetricsEndpoints as Doc[];
    expect(endpoint).toMatchObject({ path: '/metrics' });
    const port = endpoint!.portNumber ?? endpoint!.targetPort;
    const matches = (labels: Record<string, string>) =>
      Object.entries(monitor.spec.selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v) &&
      ((monitor.spec.selector.matchExpressions ?? []) as Doc[]).every((e) =>
        e.operator === 'Exists' ? e.key in labels : e.operator === 'In' ? (e.values as string[]).includes(labels[e.key]!) : false,
      );
    const pods = [...ofKind('Deployment', 'keda'), ...ofKind('Service', 'knative', 'serving.knative.dev/v1')];
    expect(pods).toHaveLength(names.length * 2);
    for (const { file, doc } of pods) {
      const template = doc.spec.template;
      expect(matches(template.metadata.labels), file).toBe(true);
      expect(
        template.spec.containers[0].ports.map((p: Doc) => p.containerPort),
        file,
      ).toContain(port);
    }
    expect(matches(one('Deployment', 'amas-orchestration').spec.template.metadata.labels), 'the API has its ServiceMonitor').toBe(false);
    expect(monitor.spec.namespaceSelector.matchNames).toEqual(['amas']);
  });
});

describe('tracing', () => {
  /** Every container of ours (image amas/…) with its effective env: its ConfigMaps' data, then its own env values. */
  const ours = docs.flatMap(({ file, doc }) =>
    ((doc.spec?.template?.spec?.containers ?? []) as Doc[])
      .filter((c) => String(c.image).startsWith('amas/'))
      .map((c) => ({ label: `${file} ${doc.metadata.name}/${c.name}`, container: c })),
  );
  const effectiveEnv = (c: Doc): Record<string, string | undefined> => ({
    ...Object.assign(
      {},
      ...((c.envFrom ?? []) as Doc[]).filter((f) => f.configMapRef).map((f) => one('ConfigMap', f.configMapRef.name).data as Record<string, string>),
    ),
    ...Object.fromEntries(((c.env ?? []) as Doc[]).filter((e) => 'value' in e).map((e) => [e.name, String(e.value)])),
  });
  const partOf = (c: Doc): string => String(c.command?.join(' ')).match(/main-function\.js (\w+)/)?.[1] ?? 'api';

  it('every process of the API and both function layouts exports spans, named amas-<part>, sampled by ORCHESTRATION_TRACE_SAMPLE_RATE', () => {
    expect(ours).toHaveLength(1 + names.length * 2);
    for (const { label, container } of ours) {
      expect(tracingProblems(effectiveEnv(container)), label).toEqual([]);
      expect(effectiveEnv(container).OTEL_SERVICE_NAME, label).toBe(`amas-${partOf(container)}`);
    }
  });

  it('the exporter endpoint is the zipkin Service the base ships', () => {
    const endpoint = new URL(String(one('ConfigMap', 'amas-tracing-config').data.OTEL_EXPORTER_ZIPKIN_ENDPOINT));
    const [service, namespace] = endpoint.hostname.split('.');
    const svc = one('Service', service!, 'v1');
    expect(svc.metadata.namespace).toBe(namespace);
    const port = (svc.spec.ports as Doc[]).find((p) => p.port === Number(endpoint.port))!;
    const pod = one('Deployment', service!).spec.template;
    expect(svc.spec.selector).toEqual(pod.metadata.labels);
    expect(pod.spec.containers[0].ports.map((p: Doc) => p.name)).toContain(port.targetPort);
    expect(pod.spec.containers[0].image).toBe('openzipkin/zipkin:3.5.1');
  });

  it('the check fails a manifest without the tracing ConfigMap, the service name or a sample rate', () => {
    const { container } = ours.find(({ label }) => label.startsWith('keda/'))!;
    expect(tracingProblems(effectiveEnv(container))).toEqual([]);
    const noConfigMap = clone(container);
    noConfigMap.envFrom = noConfigMap.envFrom.filter((f: Doc) => f.configMapRef.name !== 'amas-tracing-config');
    expect(tracingProblems(effectiveEnv(noConfigMap))).toEqual([expect.stringMatching(/^no trace exporter/)]);
    const unnamed = clone(container);
    unnamed.env = unnamed.env.filter((e: Doc) => e.name !== 'OTEL_SERVICE_NAME');
    expect(tracingProblems(effectiveEnv(unnamed))).toEqual([expect.stringMatching(/^OTEL_SERVICE_NAME/)]);
    expect(tracingProblems({ ...effectiveEnv(container), ORCHESTRATION_TRACE_SAMPLE_RATE: undefined })).toEqual([
      expect.stringMatching(/^ORCHESTRATION_TRACE_SAMPLE_RATE/),
    ]);
    expect(tracingProblems({ ...effectiveEnv(container), OTEL_EXPORTER_ZIPKIN_ENDPOINT: 'http://zipkin:9411' })).toEqual([
      expect.stringMatching(/^zipkin exporter/),
    ]);
  });
});

describe('Knative dispatcher autoscaling', () => {
  it('ships the config-kafka-features key that turns on KEDA for KafkaSource dispatchers, and the README says so', () => {
    const features = docs.filter(({ doc }) => doc.kind === 'ConfigMap' && doc.metadata.name === 'config-kafka-features');
    expect(features).toHaveLength(1);
    expect(features[0]!.doc.metadata.namespace).toBe('knative-eventing');
    expect(features[0]!.doc.data['controller-autoscaler-keda']).toBe('enabled');
    // Not in the kustomization (it would move the map into amas).
    expect(ofKind('Kustomization', 'knative')[0]!.doc.resources).not.toContain(relative('knative', features[0]!.file));
    expect(readFileSync(join(k8s, 'README.md'), 'utf8')).toContain('controller-autoscaler-keda');
  });
});
