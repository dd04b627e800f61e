import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { configKeys } from '../../shared/config.js';
import { infraSchema } from '../../shared/env.js';
import { functionSubscriptions } from '../../shared/events/topics.js';
import { isLoopback } from '../../shared/http-api/auth/from-infra.js';
import { otelVariables, tracingProblems } from './helpers/tracing-env.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- compose files are untyped YAML trees */
type Doc = Record<string, any>;

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string) => readFileSync(join(root, file), 'utf8');
const load = (file: string): Doc => parse(read(file), { merge: true }) as Doc;
const serverVars = [...Object.keys(infraSchema.shape), 'SQS_ENDPOINT', 'DYNAMODB_ENDPOINT', 'AWS_REGION'];
const allowedAppEnv = new Set<string>([...configKeys, ...serverVars, ...otelVariables]);
const databases = ['postgres', 'redis', 'neo4j', 'kafka'];

const envNames = (env: unknown): string[] => (Array.isArray(env) ? env.map((e) => String(e).split('=')[0]!) : Object.keys((env ?? {}) as object));
const dependsOn = (svc: Doc): [string, string | undefined][] =>
  Array.isArray(svc.depends_on)
    ? svc.depends_on.map((d: string) => [d, undefined])
    : Object.entries(svc.depends_on ?? {}).map(([d, c]) => [d, (c as Doc)?.condition]);
const hostPort = (mapping: unknown): string => {
  const parts = String(typeof mapping === 'object' ? (mapping as Doc).published : mapping).split(':');
  return parts.length >= 2 ? parts.slice(0, -1).join(':') : parts[0]!;
};
const isApp = (svc: Doc): boolean => svc.build !== undefined || String(svc.image ?? '').startsWith('amas/');

/** Structural problems of one compose file; [] when it is sound. */
function composeProblems(compose: Doc): string[] {
  const problems: string[] = [];
  const services = (compose.services ?? {}) as Record<string, Doc>;
  const published = new Map<string, string>();
  for (const [name, svc] of Object.entries(services)) {
    if (!svc.image && !svc.build) problems.push(`${name}: neither image nor build`);
    for (const [dep, condition] of dependsOn(svc)) {
      if (!services[dep]) problems.push(`${name}: depends_on unknown service ${dep}`);
      else if (condition === 'service_healthy' && !services[dep].healthcheck)
        problems.push(`${name}: waits for ${dep} to be healthy, which has no healthcheck`);
    }
    for (const port of svc.ports ?? []) {
      const host = hostPort(port);
      if (published.has(host)) problems.push(`${name}: host port ${host} already published by ${published.get(host)}`);
      published.set(host, name);
    }
    for (const volume of svc.volumes ?? []) {
      const source = String(volume).split(':')[0]!;
      if (source.startsWith('.')) {
        if (!existsSync(join(root, source))) problems.push(`${name}: mounts missing ${source}`);
      } else if (!(source in (compose.volumes ?? {}))) problems.push(`${name}: undeclared volume ${source}`);
    }
    if (isApp(svc)) for (const env of envNames(svc.environment)) if (!allowedAppEnv.has(env)) problems.push(`${name}: unknown variable ${env}`);
    if (databases.includes(name) && !svc.healthcheck) problems.push(`${name}: no healthcheck`);
  }
  return problems;
}

/** Problems of the Dockerfile: multi-stage, npm ci, non-root runtime, the embedded CMD. */
function dockerfileProblems(text: string): string[] {
  const lines = text
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'));
  const froms = lines.filter((l) => /^FROM\s/i.test(l));
  const lastFrom = lines.findIndex((l) => l === froms.at(-1));
  const runtime = lines.slice(lastFrom);
  const user = runtime
    .filter((l) => /^USER\s/i.test(l))
    .at(-1)
    ?.split(/\s+/)[1];
  const problems: string[] = [];
  if (froms.length < 2) problems.push('not multi-stage');
  if (!/^FROM node:20-slim\b/.test(froms.at(-1) ?? '')) problems.push('runtime stage is not node:20-slim');
  if (!lines.some((l) => /^RUN .*\bnpm ci\b/.test(l))) problems.push('dependencies not installed with npm ci');
  if (!user || user === 'root' || user.startsWith('0')) problems.push('runtime runs as root');
  if (!runtime.some((l) => l === 'EXPOSE 8000')) problems.push('does not expose 8000');
  if (!runtime.some((l) => /^HEALTHCHECK\s/.test(l))) problems.push('no HEALTHCHECK');
  const cmd = runtime.filter((l) => /^CMD\s/.test(l)).at(-1) ?? '';
  if (!cmd.includes('"shared/runtime/main-embedded.js"')) problems.push('CMD is not the embedded entry point');
  // Compiled at build time: the final image runs JavaScript, never TypeScript through tsx.
  if (!/^CMD \["node", "[^"]+\.js"/.test(cmd) || /tsx|\.ts"/.test(cmd)) problems.push('CMD does not run compiled JavaScript');
  const build = lines.slice(0, lastFrom);
  if (!build.some((l) => /^RUN .*\b(tsc|esbuild)\b/.test(l))) problems.push('no build stage compiles the TypeScript');
  if (!runtime.some((l) => /^COPY --from=\w+ \/app\/dist\//.test(l))) problems.push('the runtime does not take the compiled output');
  return problems;
}

describe('docker-compose.yml (production-like)', () => {
  const compose = load('docker-compose.yml');
  const services = compose.services as Record<string, Doc>;

  it('is structurally sound', () => {
    expect(composeProblems(compose)).toEqual([]);
  });

  it('runs the API and one worker per function, each with every ORCHESTRATION_* key and the server variables', () => {
    const workers = Object.keys(functionSubscriptions).map((fn) => `fn-${fn}`);
    for (const name of ['orchestration', ...workers]) {
      const env = envNames(services[name]!.environment);
      expect(env, name).toEqual(expect.arrayContaining([...configKeys, 'KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL', 'NEO4J_URL', 'KAFKA_PARTITIONS']));
    }
    for (const fn of Object.keys(functionSubscriptions)) expect(services[`fn-${fn}`]!.command).toEqual(['node', 'shared/runtime/main-function.js', fn]);
    expect(services.orchestration!.ports).toEqual(['8000:8000']);
    expect(services.orchestration!.environment.ORCHESTRATION_DEMO_AGENTS).toBe('${ORCHESTRATION_DEMO_AGENTS:-false}');
  });

  it('no app service listens beyond loopback with AMAS_AUTH=none; the API uses keys with AMAS_ADMIN_KEY from .env, required', () => {
    for (const [name, svc] of Object.entries(services).filter(([, s]) => isApp(s))) {
      const env = (svc.environment ?? {}) as Record<string, string>;
      // No command runs the image's CMD (main-embedded.ts, the API).
      const servesApi = !svc.command || /main-(api|embedded)\.[jt]s/.test(String(svc.command));
      if (servesApi && !isLoopback(env.HOST ?? '127.0.0.1')) expect(env.AMAS_AUTH ?? 'none', name).not.toBe('none');
    }
    expect(services.orchestration!.environment).toMatchObject({ HOST: '0.0.0.0', AMAS_AUTH: 'keys' });
    expect(services.orchestration!.environment.AMAS_ADMIN_KEY).toMatch(/^\$\{AMAS_ADMIN_KEY:\?/);
  });

  it('uses the required server images', () => {
    expect(services.postgres!.image).toBe('postgres:15');
    expect(services.redis!.image).toBe('redis:7');
    expect(services.neo4j!.image).toBe('neo4j:5.26');
    expect(services.kafka!.image).toMatch(/^apache\/kafka:3\.9\./);
    expect(services.kafka!.environment.KAFKA_PROCESS_ROLES).toBe('broker,controller');
  });

  it('the checks catch real mistakes', () => {
    const broken = structuredClone(compose);
    delete broken.services.postgres.healthcheck;
    broken.services['fn-assign'].depends_on.nowhere = { condition: 'service_started' };
    broken.services['fn-assign'].environment.ORCHESTRATION_TYPO = '1';
    broken.services.redis.ports = ['8000:6379'];
    delete broken.services.neo4j.image;
    expect(composeProblems(broken)).toEqual([
      'orchestration: waits for postgres to be healthy, which has no healthcheck',
      'fn-decompose: waits for postgres to be healthy, which has no healthcheck',
      'fn-assign: waits for postgres to be healthy, which has no healthcheck',
      'fn-assign: depends_on unknown service nowhere',
      'fn-assign: unknown variable ORCHESTRATION_TYPO',
      'fn-dispatch: waits for postgres to be healthy, which has no healthcheck',
      'fn-complete: waits for postgres to be healthy, which has no healthcheck',
      'postgres: no healthcheck',
      'redis: host port 8000 already published by orchestration',
      'neo4j: neither image nor build',
    ]);
  });
});

describe('docker-compose.dev.yml', () => {
  const compose = load('docker-compose.dev.yml');
  const services = compose.services as Record<string, Doc>;

  it('is structurally sound and runs the servers, Prometheus and Grafana', () => {
    expect(composeProblems(compose)).toEqual([]);
    expect(Object.keys(services).sort()).toEqual(['grafana', 'kafka', 'neo4j', 'postgres', 'prometheus', 'redis', 'zipkin']);
  });

  it('Prometheus scrapes /metrics of the API and the functions; Grafana provisions the dashboard', () => {
    expect(services.prometheus!.volumes).toContain('./deploy/prometheus.yml:/etc/prometheus/prometheus.yml:ro');
    const prometheus = load('deploy/prometheus.yml');
    const targets = (prometheus.scrape_configs as Doc[]).flatMap((j) => (j.static_configs as Doc[]).flatMap((s) => s.targets as string[]));
    expect(targets).toEqual(expect.arrayContaining(['host.docker.internal:8000', 'host.docker.internal:8081']));
    // Every target resolves in this stack: a service of the file, Prometheus itself, or the host via extra_hosts.
    const resolvable = new Set([...Object.keys(services), 'localhost', ...((services.prometheus!.extra_hosts ?? []) as string[]).map((h) => h.split(':')[0]!)]);
    for (const target of targets) expect(resolvable.has(target.split(':')[0]!), target).toBe(true);
    const provider = load('deploy/grafana/provisioning/dashboards/amas.yaml').providers[0] as Doc;
    const mount = (services.grafana!.volumes as string[]).find((v) => v.split(':')[1] === provider.options.path)!;
    expect(existsSync(join(root, mount.split(':')[0]!, 'amas-orchestration.json'))).toBe(true);
    expect(load('deploy/grafana/provisioning/datasources/prometheus.yaml').datasources[0].url).toBe('http://prometheus:9090');
  });
});

/** A service's environment as compose starts it with an empty .env: `${X:-default}` becomes the default. */
const resolved = (env: Record<string, unknown>): Record<string, string> =>
  Object.fromEntries(Object.entries(env).map(([k, v]) => [k, String(v).replace(/\$\{[A-Z0-9_]+:?-([^}]*)\}/g, '$1')]));

describe('tracing in docker-compose.yml', () => {
  const compose = load('docker-compose.yml');
  const services = compose.services as Record<string, Doc>;
  const apps = Object.entries(services).filter(([, s]) => isApp(s));

  it("the API and every worker export spans to the stack's Zipkin, each under its own amas-<part> name", () => {
    expect(apps.map(([name]) => name).sort()).toEqual(['orchestration', ...Object.keys(functionSubscriptions).map((fn) => `fn-${fn}`)].sort());
    for (const [name, svc] of apps) {
      const env = resolved(svc.environment as Record<string, unknown>);
      expect(tracingProblems(env), name).toEqual([]);
      expect(env.OTEL_SERVICE_NAME, name).toBe(name === 'orchestration' ? 'amas-api' : `amas-${name.slice(3)}`);
      expect(new URL(env.OTEL_EXPORTER_ZIPKIN_ENDPOINT!).host, name).toBe('zipkin:9411');
    }
    expect(services.zipkin!.image).toBe('openzipkin/zipkin:3.5.1');
    expect(services.zipkin!.ports).toEqual(['127.0.0.1:9411:9411']);
  });

  it('the check fails a service that lost the tracing settings', () => {
    const env = resolved(services['fn-assign']!.environment as Record<string, unknown>);
    const { OTEL_TRACES_EXPORTER: _exporter, ...noExporter } = env;
    expect(tracingProblems(noExporter)).toEqual([expect.stringMatching(/^no trace exporter/)]);
    const { OTEL_SERVICE_NAME: _name, ...unnamed } = env;
    expect(tracingProblems(unnamed)).toEqual([expect.stringMatching(/^OTEL_SERVICE_NAME/)]);
  });
});

describe('both compose files', () => {
  it.each(['docker-compose.yml', 'docker-compose.dev.yml'])('%s has no top-level name (docker-compose v1 refuses it)', (file) => {
    expect(Object.keys(load(file))).not.toContain('name');
  });

  it('the dev stack publishes every port on 127.0.0.1 only (password-less Redis, admin/admin Grafana)', () => {
    const services = load('docker-compose.dev.yml').services as Record<string, Doc>;
    for (const name of ['redis', 'grafana']) expect(services[name]!.ports?.length, name).toBeGreaterThan(0);
    for (const [name, svc] of Object.entries(services))
      for (const port of svc.ports ?? []) expect(hostPort(port), `${name} ${String(port)}`).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('the production-like API signs agent messages with AMAS_MESSAGE_SECRET from .env, required (one secret for all replicas)', () => {
    const services = load('docker-compose.yml').services as Record<string, Doc>;
    expect(services.orchestration!.environment.AMAS_MESSAGE_SECRET).toMatch(/^\$\{AMAS_MESSAGE_SECRET:\?/);
  });
});

describe('Dockerfile', () => {
  const text = read('Dockerfile');

  it('is multi-stage, installs with npm ci and runs the embedded runtime as user node', () => {
    expect(dockerfileProblems(text)).toEqual([]);
    expect(text).toMatch(/^USER node$/m);
  });

  it('the checks catch a root runtime and a single stage', () => {
    const rootUser = text.replace(/^USER node$/m, 'USER root');
    expect(dockerfileProblems(rootUser)).toEqual(['runtime runs as root']);
    const singleStage = text.replace(/^FROM node:20-slim AS (build|deps)$/gm, '').replace(/^COPY --from=\w+ .*$/gm, '');
    expect(dockerfileProblems(singleStage)).toContain('not multi-stage');
  });

  it('the checks catch an image that runs TypeScript through tsx', () => {
    const viaTsx = text.replace(/^CMD \[.*\]$/m, 'CMD ["node", "--import", "tsx", "shared/runtime/main-embedded.ts"]');
    expect(dockerfileProblems(viaTsx)).toEqual(['CMD is not the embedded entry point', 'CMD does not run compiled JavaScript']);
    const noBuild = text.replace(/^RUN npx tsc .*$/m, '');
    expect(dockerfileProblems(noBuild)).toEqual(['no build stage compiles the TypeScript']);
  });

  it('every command of the compose files and manifests names a compiled entry point of the image', () => {
    const k8sCommands = readdirSync(join(root, 'k8s'), { recursive: true, encoding: 'utf8' })
      .filter((f) => /\.ya?ml$/.test(f))
      .flatMap((f) => read(join('k8s', f)).match(/command: \[.*\]/g) ?? []);
    const composeCommands = Object.values(load('docker-compose.yml').services as Record<string, Doc>)
      .filter(isApp)
      .map((s) => `command: ${JSON.stringify(s.command ?? [])}`);
    const all = [...k8sCommands, ...composeCommands].filter((c) => c.includes('shared/runtime/'));
    expect(all.length).toBeGreaterThan(10);
    for (const c of all) expect(c, c).toMatch(/"shared\/runtime\/main-[a-z]+\.js"/);
    // tsc emits exactly these: each named entry point has its TypeScript source.
    for (const c of all) expect(existsSync(join(root, c.match(/shared\/runtime\/main-[a-z]+/)![0] + '.ts')), c).toBe(true);
  });
});
