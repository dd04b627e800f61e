import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { z } from 'zod';
import { loadConfig, loadInfra } from '../config.js';
import { ConfigError } from '../errors.js';
import { createDynamoClient } from '../adapters/dynamodb/dynamodb-client.js';
import { createDynamoLeaseStore } from '../adapters/dynamodb/lease-store.dynamodb.js';
import { ensureLeaseTable } from '../adapters/dynamodb/lease-table.dynamodb.js';
import { createSqsClient } from '../adapters/sqs/sqs-client.js';
import { createSqsEventBus } from '../adapters/sqs/event-bus.sqs.js';
import { sqsQueueGroups } from '../adapters/sqs/sqs-topology.js';
import { createPgClient } from '../adapters/sql/sql-client.pg.js';
import { createSqlWorkflowStore } from '../adapters/sql/workflow-store.sql.js';
import { createApiApp } from '../http-api/app.js';
import { apiAuthFromInfra } from '../http-api/auth/from-infra.js';
import { createSqsHandler } from '../bindings/lambda-sqs.js';
import { createRecoveryLoop } from '../engine/recovery.js';
import { createLogger } from '../observability/logger.js';
import { plannerFromEnv } from './planner-from-env.js';
import { lambdaDirectory } from './lambda-directory.js';
import { startTracing } from '../observability/tracing/index.js';
import { startRuntime, type Runtime } from './runtime.js';

const lambdaEnvSchema = z.object({
  DATABASE_URL: z.string().min(1, 'DATABASE_URL is required on Lambda'),
  /** A PostgreSQL schema of its own (tests); default: the connection's search_path. */
  DATABASE_SCHEMA: z.string().optional(),
  /** Unset on AWS (the SDK's default endpoint); ElasticMQ's URL locally. */
  SQS_ENDPOINT: z.string().optional(),
  SQS_QUEUE_PREFIX: z.string().default(''),
  /** The queues' redrive maxReceiveCount (serverless.yml): the last receive dead-letters with the reason. */
  SQS_MAX_RECEIVE_COUNT: z.coerce.number().int().min(1).default(5),
  DYNAMODB_ENDPOINT: z.string().optional(),
  LEASE_TABLE: z.string().min(3).default('amas-leases'),
  /** The shared agent directory's table, unless NEO4J_URL names a graph to keep it in. */
  AGENT_TABLE: z.string().min(3).default('amas-agents'),
  NEO4J_URL: z.string().optional(),
  NEO4J_NAMESPACE: z.string().min(1).default('default'),
});

/**
 * Builds one runtime per container, lazily on the first invocation, and reuses it while the
 * container is warm. Locally (an endpoint is set) it creates the queues and the lease and agent
 * tables; on AWS infrastructure code does, and the function's role needs no create rights. The
 * agent directory is shared by every container: Neo4j with NEO4J_URL, else DynamoDB.
 */
export async function createLambdaRuntime(env: Record<string, string | undefined> = process.env): Promise<Runtime> {
  const parsed = lambdaEnvSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) throw new ConfigError(`Invalid configuration: ${z.prettifyError(parsed.error)}`);
  const infra = parsed.data;
  const config = loadConfig(env);
  const logger = createLogger(config.ORCHESTRATION_LOG_LEVEL, 'amas-lambda');
  // Spans are flushed at the end of each invocation (lambda-sqs.ts): a frozen container exports nothing.
  await startTracing(env.AWS_LAMBDA_FUNCTION_NAME ?? 'amas-lambda', config, env);

  const bus = createSqsEventBus({
    client: createSqsClient(infra.SQS_ENDPOINT),
    queuePrefix: infra.SQS_QUEUE_PREFIX,
    maxReceiveCount: infra.SQS_MAX_RECEIVE_COUNT,
    onError: (error, context) => logger.warn('sqs', { context, error: String(error) }),
  });
  if (infra.SQS_ENDPOINT) {
    for (const { topic, groupId } of sqsQueueGroups) await bus.ensureGroup(topic, groupId);
  }
  const dynamo = createDynamoClient(infra.DYNAMODB_ENDPOINT);
  if (infra.DYNAMODB_ENDPOINT) await ensureLeaseTable(dynamo, infra.LEASE_TABLE);
  const agents = await lambdaDirectory(infra, config, dynamo);
  const store = createSqlWorkflowStore(createPgClient(infra.DATABASE_URL, { schema: infra.DATABASE_SCHEMA, maxConnections: 2 }));

  const runtime = await startRuntime({
    config,
    logger,
    adapters: {
      bus,
      store,
      leases: createDynamoLeaseStore({ client: dynamo, table: infra.LEASE_TABLE }),
      directory: agents.directory,
      healthChecks: agents.healthChecks,
      planner: plannerFromEnv(logger, env).planner,
    },
    // SQS drives the functions (event source mappings), not in-process consumers.
    functions: [],
    demoAgents: false,
    recovery: false,
  });
  return {
    ...runtime,
    async stop() {
      await runtime.stop();
      await bus.close();
      await store.close();
      await agents.close();
      dynamo.destroy();
    },
  };
}

/** The parts of an API Gateway HTTP API (payload 2.0) event the bridge reads. */
export interface HttpApiEvent {
  rawPath: string;
  rawQueryString?: string;
  headers?: Record<string, string | undefined>;
  cookies?: string[];
  body?: string;
  isBase64Encoded?: boolean;
  requestContext: { http: { method: string } };
}
export interface HttpApiResult {
  statusCode: number;
  headers: Record<string, string>;
  cookies?: string[];
  body: string;
  isBase64Encoded: boolean;
}

const hopByHop = new Set(['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive']);
const textual = /^(text\/|application\/(?:[\w.+-]+\+)?(?:json|xml|javascript)\b)/;

/**
 * API Gateway → the express app, unchanged: the app listens on a loopback port inside the
 * container and each event is forwarded with fetch. One loopback hop buys express's own request
 * parsing, routing and error handling, with no imitation of Node's request objects.
 */
export function createApiHandler(runtime: () => Promise<Runtime>, env: Record<string, string | undefined> = process.env) {
  let origin: Promise<string> | undefined;
  const start = async (): Promise<string> => {
    // API Gateway is public whatever HOST says: `none` is refused, except in a local run against an SQS emulator.
    const app = createApiApp(await runtime(), { auth: apiAuthFromInfra(loadInfra(env), { keys: null, loopback: Boolean(env.SQS_ENDPOINT) }) });
    const server: Server = await new Promise((resolve) => {
      const listening = app.listen(0, '127.0.0.1', () => resolve(listening));
    });
    server.unref();
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };

  return async (event: HttpApiEvent): Promise<HttpApiResult> => {
    origin ??= start().catch((error: unknown) => {
      origin = undefined;
      throw error;
    });
    const base = await origin;
    const headers = new Headers();
    for (const [name, value] of Object.entries(event.headers ?? {})) {
      if (value !== undefined && !hopByHop.has(name.toLowerCase())) headers.set(name, value);
    }
    if (event.cookies?.length) headers.set('cookie', event.cookies.join('; '));
    const method = event.requestContext.http.method.toUpperCase();
    const body = event.body === undefined || method === 'GET' || method === 'HEAD' ? undefined : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
    const query = event.rawQueryString ? `?${event.rawQueryString}` : '';
    const response = await fetch(`${base}${event.rawPath}${query}`, { method, headers, body });

    const out: Record<string, string> = {};
    response.headers.forEach((value, name) => {
      if (name !== 'set-cookie' && !hopByHop.has(name)) out[name] = value;
    });
    const bytes = Buffer.from(await response.arrayBuffer());
    const isText = textual.test(response.headers.get('content-type') ?? 'text/plain');
    // Outbox rows written by the request are published before the container may freeze.
    await (await runtime()).relay.drain();
    const cookies = response.headers.getSetCookie();
    return {
      statusCode: response.status,
      headers: out,
      ...(cookies.length > 0 ? { cookies } : {}),
      body: isText ? bytes.toString('utf8') : bytes.toString('base64'),
      isBase64Encoded: !isText,
    };
  };
}

/** Every Lambda handler of one container, over one lazily created runtime. */
/**
 * The recovery loop on a schedule (serverless.yml: every minute): one tick per invocation, since a
 * frozen Lambda container runs no timers. It only reports lost leases and deadlines as events.
 */
export function createRecoverHandler(runtime: () => Promise<Runtime>) {
  return async (): Promise<{ expired: number; overdue: number; rekicked: number }> => {
    const rt = await runtime();
    const { store, leases, directory, clock, ids, config } = rt.ports;
    const loop = createRecoveryLoop({ store, leases, directory, bus: rt.bus, context: { clock, ids, source: 'amas/orchestration' }, config, logger: rt.logger, intervalMs: 60_000 });
    return loop.tick();
  };
}

export function createLambdaHandlers(env: Record<string, string | undefined> = process.env) {
  let created: Promise<Runtime> | undefined;
  const runtime = () =>
    (created ??= createLambdaRuntime(env).catch((error: unknown) => {
      created = undefined; // the next invocation tries again
      throw error;
    }));
  // createLambdaRuntime validates it (a bad value fails every invocation there).
  const sqs = { maxReceiveCount: Number(env.SQS_MAX_RECEIVE_COUNT || 5) };
  return {
    decompose: createSqsHandler('decompose', runtime, sqs),
    assign: createSqsHandler('assign', runtime, sqs),
    dispatch: createSqsHandler('dispatch', runtime, sqs),
    complete: createSqsHandler('complete', runtime, sqs),
    api: createApiHandler(runtime, env),
    recover: createRecoverHandler(runtime),
    runtime,
    async close() {
      if (created) await (await created).stop();
    },
  };
}

const handlers = createLambdaHandlers();
export const { decompose, assign, dispatch, complete, api, recover } = handlers;
