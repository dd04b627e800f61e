// One workflow is one trace across every process: the API, the four function processes on the real
// Kafka (PostgreSQL, Redis, Neo4j behind them) and the agents process each export their spans to a
// real Zipkin server (infra/zipkin), linked only by the trace context the CloudEvents carry.
import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { promisify } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import neo4j from 'neo4j-driver';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createNeo4jAgentDirectory } from '../../shared/adapters/neo4j/agent-directory.neo4j.js';
import { createPgClient } from '../../shared/adapters/sql/sql-client.pg.js';
import { functionSubscriptions } from '../../shared/events/index.js';
import { ensureKafkaUp, repoRoot, schemaUrl, Service, waitUntil } from './helpers/processes.js';

const exec = promisify(execFile);
const zipkin = process.env.ZIPKIN_URL ?? 'http://127.0.0.1:9411';
const baseDbUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const neo4jUrl = process.env.NEO4J_URL ?? 'bolt://127.0.0.1:7687';
const run = randomUUID().slice(0, 8);
const schema = `amas_trace_${run}`;
const apiPort = 18_470;
const env: Record<string, string> = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  DATABASE_URL: schemaUrl(baseDbUrl, schema),
  REDIS_URL: 'redis://127.0.0.1:6379',
  NEO4J_URL: neo4jUrl,
  KAFKA_TOPIC_PREFIX: `trace-${run}.`,
  NEO4J_NAMESPACE: `trace-${run}`,
  ORCHESTRATION_LOG_LEVEL: 'INFO',
  ORCHESTRATION_DEMO_AGENT_DELAY_MS: '50',
  ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: '1',
  ORCHESTRATION_DEMO_LOW_QUALITY_RATE: '0',
  // The standard OpenTelemetry variables, nothing of ours but the sample rate.
  ORCHESTRATION_ENABLE_TRACING: 'true',
  ORCHESTRATION_TRACE_SAMPLE_RATE: '1',
  ORCHESTRATION_PLAN_APPROVAL: 'off',
  OTEL_TRACES_EXPORTER: 'zipkin',
  OTEL_EXPORTER_ZIPKIN_ENDPOINT: `${zipkin}/api/v2/spans`,
  OTEL_BSP_SCHEDULE_DELAY: '200',
  OTEL_SERVICE_NAME: '', // each process names itself (amas-api, amas-decompose, …)
};
const fnNames = Object.keys(functionSubscriptions) as (keyof typeof functionSubscriptions)[];
const functions = fnNames.map((fn, i) => new Service({ name: fn, script: 'shared/runtime/main-function.ts', args: [fn], port: apiPort + 1 + i, env }));
const api = new Service({ name: 'api', script: 'shared/runtime/main-api.ts', port: apiPort, env: { ...env, ORCHESTRATION_DEMO_AGENTS: 'false' } });
const agents = new Service({ name: 'agents', script: 'shared/runtime/main-agents.ts', port: apiPort + 9, env: { ...env, ORCHESTRATION_DEMO_AGENTS: 'true' } });
const all = [api, ...functions, agents];

/** A span as Zipkin's v2 API returns it. */
interface ZipkinSpan {
  traceId: string;
  id: string;
  parentId?: string;
  name?: string;
  kind?: string;
  localEndpoint?: { serviceName?: string };
  tags?: Record<string, string>;
}
const serviceOf = (span: ZipkinSpan) => span.localEndpoint?.serviceName ?? '';

/** Services from the root down to `span`, consecutive repeats (a process's own child spans) folded. */
function pathOf(span: ZipkinSpan, byId: Map<string, ZipkinSpan>): string[] {
  const services: string[] = [];
  for (let at: ZipkinSpan | undefined = span; at; at = at.parentId ? byId.get(at.parentId) : undefined) {
    if (services[0] !== serviceOf(at)) services.unshift(serviceOf(at));
  }
  return services;
}

async function deleteTopics(): Promise<void> {
  const kafka = new Kafka({ clientId: `trace-${run}`, brokers: ['127.0.0.1:9092'], logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  try {
    const mine = (await admin.listTopics()).filter((t) => t.startsWith(env.KAFKA_TOPIC_PREFIX!));
    if (mine.length > 0) await admin.deleteTopics({ topics: mine });
  } finally {
    await admin.disconnect();
  }
}

describe('tracing: one workflow is one trace in Zipkin across six processes', () => {
  beforeAll(async () => {
    // Idempotent: whatever infra/up.sh already started is left as it is.
    await Promise.all([
      ensureKafkaUp(),
      exec('bash', ['infra/neo4j/start.sh'], { cwd: repoRoot, timeout: 150_000 }),
      exec('bash', ['infra/zipkin/start.sh'], { cwd: repoRoot, timeout: 150_000 }),
    ]);
    const admin = createPgClient(baseDbUrl, { maxConnections: 1 });
    await admin.query(`CREATE SCHEMA ${schema}`);
    await admin.close();
    await api.start(90_000); // migrates the schema before the others race to
    await Promise.all([...functions, agents].map((s) => s.start(90_000)));
  }, 240_000);

  afterAll(async () => {
    await Promise.allSettled(all.map((s) => s.stop()));
    const admin = createPgClient(baseDbUrl, { maxConnections: 1 });
    await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`).catch(() => undefined);
    await admin.close();
    const driver = neo4j.driver(neo4jUrl);
    await createNeo4jAgentDirectory(driver, { namespace: env.NEO4J_NAMESPACE! })
      .clear()
      .catch(() => undefined);
    await driver.close();
    await deleteTopics().catch(() => undefined);
  });

  it('holds spans of the API, decompose, assign, dispatch, the agent and complete, each parented in the trace', { timeout: 180_000 }, async () => {
    const res = await fetch(`http://127.0.0.1:${apiPort}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'Research AI market trends and create presentation' }),
    });
    expect(res.status).toBe(202);
    const { workflowId, traceId } = (await res.json()) as { workflowId: string; traceId?: string };
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);

    let status = '';
    await waitUntil(
      `workflow ${workflowId} completes (last status ${status})`,
      async () => {
        const view = (await (await fetch(`http://127.0.0.1:${apiPort}/v1/workflows/${workflowId}`)).json()) as { status: string };
        status = view.status;
        return ['completed', 'failed', 'cancelled'].includes(status);
      },
      90_000,
      200,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${all.map((s) => s.logTail(10)).join('\n')}`);
    });
    expect(status).toBe('completed');

    // Every process exports in batches (OTEL_BSP_SCHEDULE_DELAY), a parent after its children: wait
    // until every process's spans are in and no span waits for its parent any more.
    const expected = ['amas-api', 'amas-decompose', 'amas-assign', 'amas-dispatch', 'amas-agents', 'amas-complete'];
    let spans: ZipkinSpan[] = [];
    await waitUntil(
      `Zipkin holds spans of ${expected.join(', ')} in trace ${traceId}`,
      async () => {
        const answer = await fetch(`${zipkin}/api/v2/trace/${traceId}`);
        if (!answer.ok) return false;
        spans = (await answer.json()) as ZipkinSpan[];
        const services = new Set(spans.map(serviceOf));
        const ids = new Set(spans.map((x) => x.id));
        return expected.every((service) => services.has(service)) && spans.every((x) => !x.parentId || ids.has(x.parentId));
      },
      30_000,
      300,
    );
    const byId = new Map(spans.map((span) => [span.id, span]));

    // One root, the submitting request; every other span's parent is in this trace.
    const roots = spans.filter((span) => !span.parentId);
    expect(roots.map((span) => [serviceOf(span), span.name, span.kind])).toEqual([['amas-api', 'post /v1/tasks', 'SERVER']]);
    const orphans = spans.filter((span) => span.parentId && !byId.has(span.parentId));
    expect(orphans.map((span) => `${serviceOf(span)} ${span.name}`)).toEqual([]);

    // Each function handles its events in a consumer span with its steps as children.
    for (const fn of fnNames) {
      const processing = spans.filter((span) => serviceOf(span) === `amas-${fn}` && span.name === `${fn} process`);
      expect(processing.length, `${fn} process spans`).toBeGreaterThan(0);
      for (const span of processing) {
        expect(span.kind).toBe('CONSUMER');
        expect(span.tags?.['cloudevents.event_id']).toBeTruthy();
        const steps = spans.filter((child) => child.parentId === span.id).map((child) => child.name);
        expect(steps).toEqual(expect.arrayContaining([`${fn} handler`, `${fn} commit`]));
      }
    }
    const agentWork = spans.filter((span) => serviceOf(span) === 'amas-agents' && span.name === 'agent work');
    expect(agentWork.length).toBeGreaterThan(0);

    // The chain of causes: API → decompose → assign → dispatch → agent → complete (for the first phase's subtasks).
    const chains = spans.filter((span) => span.name === 'complete process').map((span) => pathOf(span, byId));
    expect(chains).toContainEqual(expected);
    for (const chain of chains) {
      expect(chain.slice(0, 5)).toEqual(expected.slice(0, 5));
      expect(chain.at(-2)).toBe('amas-agents');
      expect(chain.at(-1)).toBe('amas-complete');
    }

    // A function process's readiness checks Neo4j (its agent directory) beside PostgreSQL, Redis and Kafka.
    const readiness = (await (await fetch(`http://127.0.0.1:${apiPort + 1}/ready/orchestration`)).json()) as { checks: Record<string, { ok: boolean }> };
    expect(readiness.checks).toMatchObject({ neo4j: { ok: true }, postgres: { ok: true }, redis: { ok: true }, eventBus: { ok: true } });

    // Log lines written while handling the workflow carry its trace id.
    const decomposeLog = functions[0]!.logTail(200);
    expect(decomposeLog).toContain(`"trace_id":"${traceId}"`);
  });
});
