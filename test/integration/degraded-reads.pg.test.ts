// ORCHESTRATION_GRACEFUL_DEGRADATION on the real PostgreSQL: the API reaches it through a TCP proxy
// this test can cut (the machine's shared server keeps running for everyone else). While the
// connection is cut, a workflow read before is served as the last known answer, marked stale; what
// was never read, and every write, answers 503 with Retry-After; with the flag off, reads answer 503
// too. When the connection returns, answers are fresh again.
import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryAgentDirectory } from '../../shared/adapters/memory/agent-directory.memory.js';
import { systemClock } from '../../shared/adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../../shared/adapters/memory/event-bus.memory.js';
import { createMemoryLeaseStore } from '../../shared/adapters/memory/lease-store.memory.js';
import { defaultRetryPolicy, resilientWorkflowStore } from '../../shared/adapters/resilient.js';
import { createPgClient } from '../../shared/adapters/sql/sql-client.pg.js';
import { createSqlWorkflowStore } from '../../shared/adapters/sql/workflow-store.sql.js';
import { circuitBreakerFromConfig } from '../../shared/circuit-breaker.js';
import { defaultConfig, type Config } from '../../shared/config.js';
import { createApiApp } from '../../shared/http-api/app.js';
import { silentLogger } from '../../shared/observability/logger.js';
import { startRuntime, type Runtime } from '../../shared/runtime/runtime.js';

const databaseUrl = new URL(process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test');
const schema = `amas_it_degraded_${randomUUID().slice(0, 8)}`;
const config = defaultConfig({
  ORCHESTRATION_DEMO_AGENT_DELAY_MS: 5,
  ORCHESTRATION_CIRCUIT_BREAKER_RECOVERY: 0.2,
  ORCHESTRATION_CIRCUIT_BREAKER_THRESHOLD: 2,
  ORCHESTRATION_PLAN_APPROVAL: 'OFF',
});

/** A TCP proxy to PostgreSQL whose connection can be cut (every socket dropped, new ones refused) and restored. */
function cuttableProxy(target: { host: string; port: number }) {
  let cut = false;
  const sockets = new Set<net.Socket>();
  const server = net.createServer((client) => {
    if (cut) return void client.destroy();
    const upstream = net.connect(target);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      socket.on('error', () => undefined);
    }
    client.pipe(upstream).pipe(client);
  });
  return {
    listen: () => new Promise<number>((resolve) => server.listen(0, '127.0.0.1', () => resolve((server.address() as net.AddressInfo).port))),
    cut() {
      cut = true;
      for (const socket of sockets) socket.destroy();
    },
    restore() {
      cut = false;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

const proxy = cuttableProxy({ host: databaseUrl.hostname, port: Number(databaseUrl.port || 5432) });
const admin = createPgClient(databaseUrl.toString(), { maxConnections: 1 });
let runtime: Runtime;
const servers: Server[] = [];

async function serve(withConfig: Config): Promise<string> {
  const app = createApiApp({ ...runtime, ports: { ...runtime.ports, config: withConfig } });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
  });
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
}

const get = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, headers: response.headers, body: (await response.json()) as Record<string, unknown> };
};

let degraded: string;
let strict: string;

beforeAll(async () => {
  await admin.query(`CREATE SCHEMA ${schema}`);
  const proxied = new URL(databaseUrl);
  proxied.port = String(await proxy.listen());
  // pg's own connect timeout keeps a cut connection from hanging a read.
  proxied.searchParams.set('connect_timeout', '2');
  const store = resilientWorkflowStore(
    createSqlWorkflowStore(createPgClient(proxied.toString(), { schema, maxConnections: 4 })),
    circuitBreakerFromConfig('postgres', config, systemClock),
    defaultRetryPolicy,
    { dependency: 'postgres' },
  );
  runtime = await startRuntime({
    config,
    adapters: {
      bus: createMemoryEventBus({ partitions: 2, retryDelayMs: 10 }),
      store,
      leases: createMemoryLeaseStore(systemClock),
      directory: createMemoryAgentDirectory({ maxTasksPerAgent: 3 }),
    },
    logger: silentLogger,
    demoAgents: true,
    messaging: false,
    relayIntervalMs: 50,
  });
  degraded = await serve(config);
  strict = await serve({ ...config, ORCHESTRATION_GRACEFUL_DEGRADATION: false });
}, 60_000);

afterAll(async () => {
  proxy.restore();
  for (const server of servers) await new Promise((resolve) => server.close(resolve));
  await runtime?.stop();
  await runtime?.ports.store.close();
  await proxy.close();
  await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
  await admin.close();
}, 60_000);

describe('graceful degradation while PostgreSQL is unreachable', () => {
  it('serves the last known read marked stale, and 503 with Retry-After for the rest', async () => {
    const submitted = await fetch(`${degraded}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'Write a blog post about serverless' }),
    });
    expect(submitted.status).toBe(202);
    const { workflowId } = (await submitted.json()) as { workflowId: string };
    let fresh = await get(`${degraded}/v1/workflows/${workflowId}`);
    for (const end = Date.now() + 30_000; fresh.body.status !== 'completed' && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 50));
      fresh = await get(`${degraded}/v1/workflows/${workflowId}`);
    }
    expect(fresh.body.status).toBe('completed');
    expect(fresh.headers.get('warning')).toBeNull();
    const list = await get(`${degraded}/v1/workflows?limit=5`);
    expect(list.status).toBe(200);

    proxy.cut();
    const stale = await get(`${degraded}/v1/workflows/${workflowId}`);
    expect(stale.status).toBe(200);
    expect(stale.body).toEqual(fresh.body);
    expect(stale.headers.get('warning')).toMatch(/^110 /);
    expect(Date.parse(stale.headers.get('x-amas-stale-since') ?? '')).toBeLessThanOrEqual(Date.now());
    const staleList = await get(`${degraded}/v1/workflows?limit=5`);
    expect([staleList.status, staleList.body]).toEqual([200, list.body]);

    const neverRead = await get(`${degraded}/v1/workflows/wf_never_read`);
    expect([neverRead.status, neverRead.body.error, neverRead.headers.get('retry-after')]).toEqual([503, 'dependency_unavailable', '5']);
    const strictRead = await get(`${strict}/v1/workflows/${workflowId}`);
    expect([strictRead.status, strictRead.headers.get('retry-after')]).toEqual([503, '5']);
    const write = await fetch(`${degraded}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'Refused while the store is away' }),
    });
    expect([write.status, write.headers.get('retry-after')]).toEqual([503, '5']);

    proxy.restore();
    let back = await get(`${degraded}/v1/workflows/${workflowId}`);
    for (const end = Date.now() + 15_000; back.headers.get('warning') !== null && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 100));
      back = await get(`${degraded}/v1/workflows/${workflowId}`);
    }
    expect(back.status).toBe(200);
    expect(back.headers.get('warning')).toBeNull();
    expect(back.body).toEqual(fresh.body);
  }, 90_000);
});
