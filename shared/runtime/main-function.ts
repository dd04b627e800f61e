import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { loadConfig, loadInfra } from '../config.js';
import { ConfigError } from '../errors.js';
import { functionSubscriptions, type FunctionName } from '../events/index.js';
import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import { systemClock } from '../adapters/memory/clock.system.js';
import { createMemoryLeaseStore } from '../adapters/memory/lease-store.memory.js';
import { createKafkaEventBus } from '../adapters/kafka/event-bus.kafka.js';
import { createPgClient } from '../adapters/sql/sql-client.pg.js';
import { createSqlWorkflowStore } from '../adapters/sql/workflow-store.sql.js';
import { createLogger } from './logger.js';
import { createMetrics } from './metrics.js';
import { startRuntime } from './runtime.js';

/**
 * `npx tsx shared/runtime/main-function.ts <decompose|assign|dispatch|complete>`: one function's
 * consumer per process (one Deployment per function, KEDA scales each on its group's lag), plus
 * /health, /ready and /metrics on PORT (default 8080). SIGTERM stops fetching, lets the in-flight
 * event finish, commits its offset and exits 0.
 */
const names = Object.keys(functionSubscriptions) as FunctionName[];
const checkTimeoutMs = 3_000;
const shutdownDeadlineMs = 25_000; // under Kubernetes' default 30 s grace period

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!names.includes(name as FunctionName)) {
    process.stderr.write(`unknown function ${JSON.stringify(name ?? '')}: expected one of ${names.join(', ')}\nusage: main-function.ts <${names.join('|')}>\n`);
    process.exit(2);
  }
  const fn = name as FunctionName;
  const config = loadConfig();
  const infra = loadInfra();
  const missing = (['KAFKA_BROKERS', 'DATABASE_URL'] as const).filter((key) => !infra[key]);
  if (missing.length > 0) {
    throw new ConfigError(`${missing.join(' and ')} must be set: a function process runs on Kafka and PostgreSQL (use \`npm start\` for the embedded runtime)`);
  }
  const port = process.env.PORT ? infra.PORT : 8080;
  const logger = createLogger(config.ORCHESTRATION_LOG_LEVEL, `amas-${fn}`);
  const bus = createKafkaEventBus({ brokers: infra.KAFKA_BROKERS!.split(','), clientId: `amas-${fn}`, partitions: infra.KAFKA_PARTITIONS, logger });
  const store = createSqlWorkflowStore(createPgClient(infra.DATABASE_URL!));
  // TODO: the Redis lease store and the Neo4j agent directory are coming; until then leases and the
  // directory live in this process, so only one replica per function gives consistent assignment.
  const leases = createMemoryLeaseStore(systemClock);
  const directory = createMemoryAgentDirectory({ maxTasksPerAgent: config.ORCHESTRATION_MAX_TASKS_PER_AGENT });
  const metrics = createMetrics({ defaultMetrics: true });
  const runtime = await startRuntime({ config, adapters: { bus, store, leases, directory }, logger, metrics, functions: [fn], demoAgents: false, recovery: false });

  const { topic, groupId } = functionSubscriptions[fn];
  const probes = {
    bus: async () => metrics.queueDepth.set({ topic, group: groupId }, await bus.lag(groupId, topic)),
    store: async () => void (await store.countActiveWorkflows()),
  };
  const server = createServer((req, res) => void route(req, res).catch((error: unknown) => send(res, 500, { error: String(error) })));
  async function route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET') return send(res, 405, { error: 'method_not_allowed' });
    if (path === '/health/orchestration') return send(res, 200, { status: 'healthy', function: fn, uptimeSeconds: Math.round(process.uptime()) });
    if (path === '/ready/orchestration') {
      const checks = { eventBus: await check(probes.bus), workflowStore: await check(probes.store) };
      const ready = checks.eventBus.ok && checks.workflowStore.ok;
      return send(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not_ready', function: fn, checks });
    }
    if (path === '/metrics') {
      await check(probes.bus); // a failed refresh keeps the last known depth rather than failing the scrape
      res.writeHead(200, { 'content-type': metrics.registry.contentType });
      res.end(await metrics.registry.metrics());
      return;
    }
    send(res, 404, { error: 'not_found' });
  }
  await new Promise<void>((resolve) => server.listen(port, '0.0.0.0', resolve));
  logger.info('function process running', { function: fn, topic, groupId, port: listeningPort(server) });

  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    setTimeout(() => {
      logger.error('shutdown took too long; exiting', { deadlineMs: shutdownDeadlineMs });
      process.exit(1);
    }, shutdownDeadlineMs).unref();
    server.close();
    await runtime.stop();
    await bus.close();
    await store.close();
    await leases.close();
    await directory.close();
    logger.info('stopped', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

async function check(probe: () => Promise<void>): Promise<{ ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${checkTimeoutMs} ms`)), checkTimeoutMs);
  });
  try {
    await Promise.race([probe(), timeout]);
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}

function send(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

function listeningPort(server: Server): number | undefined {
  const address = server.address();
  return typeof address === 'object' && address ? address.port : undefined;
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`amas function failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
