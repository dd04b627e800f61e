import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { infraSchema, loadInfra } from '../env.js';
import { createApiApp } from '../http-api/app.js';
import { apiAuthFromInfra } from '../http-api/auth/from-infra.js';
import { createSqsHandler } from '../bindings/lambda-sqs.js';
import { createRecoveryLoop } from '../engine/recovery.js';
import { boot } from './boot.js';
import type { Runtime } from './runtime.js';

/**
 * Builds one runtime per container, lazily on the first invocation, and reuses it while the
 * container is warm: `boot('lambda')` (SQS bus, DynamoDB leases, the shared agent directory,
 * PostgreSQL; lambda-adapters.ts).
 */
export async function createLambdaRuntime(env: Record<string, string | undefined> = process.env): Promise<Runtime> {
  const { runtime, adapters } = await boot('lambda', env);
  return {
    ...runtime,
    async stop() {
      await runtime.stop();
      await adapters.close();
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
    const body =
      event.body === undefined || method === 'GET' || method === 'HEAD' ? undefined : Buffer.from(event.body, event.isBase64Encoded ? 'base64' : 'utf8');
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
  // Kept while the container is warm: the slot reconcile frees a slot seen abandoned on two invocations a grace apart.
  let loop: ReturnType<typeof createRecoveryLoop> | undefined;
  return async (): Promise<{ expired: number; overdue: number; rekicked: number }> => {
    const rt = await runtime();
    const { store, leases, directory, clock, ids, config } = rt.ports;
    loop ??= createRecoveryLoop({
      store,
      leases,
      directory,
      bus: rt.bus,
      context: { clock, ids, source: 'amas/orchestration' },
      config,
      logger: rt.logger,
      metrics: rt.metrics,
      intervalMs: 60_000,
    });
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
  // boot('lambda') validates it (a bad value fails every invocation there).
  const receives = infraSchema.shape.SQS_MAX_RECEIVE_COUNT.safeParse(env.SQS_MAX_RECEIVE_COUNT || undefined);
  const sqs = { maxReceiveCount: receives.success ? receives.data : 5 };
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
