import type { Server } from 'node:http';
import { z } from 'zod';
import { loadConfig, loadInfra } from '../config.js';
import { ConfigError } from '../errors.js';
import { functionSubscriptions, type FunctionName } from '../events/index.js';
import { adaptersFromEnv } from './adapters-from-env.js';
import { createOpsRoutes } from '../http-api/ops-routes.js';
import { createFunctionHttpApp } from '../bindings/function-http.js';
import { createLogger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { startRuntime } from './runtime.js';
import { exitOnStartupError } from './serve-api.js';
import { exitGracefullyOnSignals } from './shutdown.js';
import { startTracing } from '../observability/tracing/index.js';

/**
 * `npx tsx shared/runtime/main-function.ts <decompose|assign|dispatch|complete>`: one function per
 * process, with /health, /ready and /metrics on PORT (default 8080).
 * - AMAS_FUNCTION_TRANSPORT=kafka (default): the function's own consumer group (KEDA scales it on lag);
 * - AMAS_FUNCTION_TRANSPORT=http: no consumer; CloudEvents POSTed to `/` (Knative KafkaSource).
 * Either way the outbox relay publishes what it commits. SIGTERM stops fetching, lets the in-flight
 * event finish, commits its offset and exits 0.
 */
const names = Object.keys(functionSubscriptions) as FunctionName[];
const transportSchema = z.enum(['kafka', 'http']);

async function main(): Promise<void> {
  const name = process.argv[2];
  if (!names.includes(name as FunctionName)) {
    process.stderr.write(`unknown function ${JSON.stringify(name ?? '')}: expected one of ${names.join(', ')}\nusage: main-function.ts <${names.join('|')}>\n`);
    process.exit(2);
  }
  const fn = name as FunctionName;
  const config = loadConfig();
  const tracing = await startTracing(`amas-${fn}`, config);
  const infra = loadInfra();
  const transport = transportSchema.safeParse(process.env.AMAS_FUNCTION_TRANSPORT ?? 'kafka');
  if (!transport.success) throw new ConfigError(`AMAS_FUNCTION_TRANSPORT=${JSON.stringify(process.env.AMAS_FUNCTION_TRANSPORT)} is invalid: expected kafka or http`);
  const missing = (['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL', 'NEO4J_URL'] as const).filter((key) => !infra[key]);
  if (missing.length > 0) {
    throw new ConfigError(`${missing.join(', ')} must be set: function processes share Kafka, PostgreSQL, Redis and Neo4j (use \`npm start\` for the embedded runtime)`);
  }
  const port = process.env.PORT ? infra.PORT : 8080;
  const logger = createLogger(config.ORCHESTRATION_LOG_LEVEL, `amas-${fn}`);
  const adapters = await adaptersFromEnv(config, infra, logger);
  const runtime = await startRuntime({
    config,
    adapters,
    logger,
    metrics: createMetrics({ defaultMetrics: true }),
    functions: transport.data === 'kafka' ? [fn] : [],
    demoAgents: false,
    recovery: false,
  });
  const app = createFunctionHttpApp(fn, runtime);
  app.use(createOpsRoutes(runtime, { functions: [fn], name: `amas-${fn}`, backlogGatesReadiness: false }));
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(port, '0.0.0.0', () => resolve(listening));
  });
  const { topic, groupId } = functionSubscriptions[fn];
  logger.info('function process running', { function: fn, transport: transport.data, topic, groupId, port });

  exitGracefullyOnSignals(server, [runtime, { stop: () => adapters.close() }, ...(tracing ? [tracing] : [])], logger);
}

main().catch((error: unknown) => exitOnStartupError(error, 'amas function'));
