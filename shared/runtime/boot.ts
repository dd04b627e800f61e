import { ConfigError } from '../errors.js';
import { loadEnv, type Env } from '../env.js';
import { functionSubscriptions, type ConsumerName } from '../events/index.js';
import { resumesAfterRestart } from '../engine/resume.js';
import { checkAuthSettings } from '../http-api/auth/from-infra.js';
import { createLogger, type Logger } from '../observability/logger.js';
import { createMetrics } from '../observability/metrics.js';
import { startTracing } from '../observability/tracing/index.js';
import type { ChosenAdapters } from './adapters-from-env.js';
import { startRuntime, type Runtime, type RuntimeOptions } from './runtime.js';

/** Every process this repository starts, one composition for all (README, "Running on real servers"). */
export type Role = 'embedded' | 'api' | 'agents' | 'lambda' | `function:${ConsumerName}`;

export const functionNames = Object.keys(functionSubscriptions) as ConsumerName[];

/** What a role runs on and runs, decided from the parsed environment alone (no I/O). */
export interface RolePlan {
  /** The logger's and the process's name. */
  name: string;
  tracingName: string;
  /** `servers`: each set server variable picks its server, else the embedded stand-in; `lambda`: SQS, DynamoDB, PostgreSQL. */
  adapters: 'servers' | 'lambda';
  /** The environment the adapters are built from (the agents process never opens the embedded data directory). */
  env: Env;
  /** Where the process serves HTTP (the Lambda role listens on no port of its own). */
  port: number;
  runtime: Omit<RuntimeOptions, 'config' | 'adapters' | 'logger' | 'metrics'> & { processMetrics: boolean };
}

export function planRole(role: Role, env: Env, vars: Record<string, string | undefined> = process.env): RolePlan {
  const { config, infra } = env;
  const api = (name: string, functions: readonly ConsumerName[]): RolePlan => {
    checkAuthSettings(infra);
    return {
      name,
      tracingName: name,
      adapters: 'servers',
      env,
      port: infra.PORT,
      runtime: {
        functions,
        demoAgents: config.ORCHESTRATION_DEMO_AGENTS,
        // The API always relays escalations and approval requests and serves POST /v1/messages.
        messaging: infra.AMAS_MESSAGE_SECRET ? { secret: infra.AMAS_MESSAGE_SECRET } : true,
        processMetrics: true,
        // Only the process whose in-process bus feeds its own functions (npm start) lost their in-flight work.
        resume: functions.length > 0 && resumesAfterRestart(infra),
      },
    };
  };
  if (role === 'embedded') return api('amas-orchestration', functionNames);
  if (role === 'api') return api('amas-api', []);
  if (role === 'agents') {
    return {
      name: 'amas-agents',
      tracingName: 'amas-agents',
      adapters: 'servers',
      // The embedded data directory belongs to `npm start`: two processes must never open one PGlite store.
      env: { ...env, infra: { ...infra, AMAS_DATA_DIR: null } },
      port: vars.PORT ? infra.PORT : 8090,
      runtime: { functions: [], demoAgents: true, demoInstance: infra.AMAS_DEMO_AGENT_INSTANCE, recovery: false, processMetrics: false },
    };
  }
  if (role === 'lambda') {
    return {
      name: 'amas-lambda',
      tracingName: vars.AWS_LAMBDA_FUNCTION_NAME ?? 'amas-lambda',
      adapters: 'lambda',
      env,
      port: 0,
      // SQS drives the functions (event source mappings), not in-process consumers.
      runtime: { functions: [], demoAgents: false, recovery: false, processMetrics: false },
    };
  }
  const fn = role.slice('function:'.length) as ConsumerName;
  if (!functionNames.includes(fn)) throw new ConfigError(`unknown function ${JSON.stringify(fn)}: expected one of ${functionNames.join(', ')}`);
  const missing = (['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL', 'NEO4J_URL'] as const).filter((key) => !infra[key]);
  if (missing.length > 0) {
    throw new ConfigError(
      `${missing.join(', ')} must be set: function processes share Kafka, PostgreSQL, Redis and Neo4j (use \`npm start\` for the embedded runtime)`,
    );
  }
  return {
    name: `amas-${fn}`,
    tracingName: `amas-${fn}`,
    adapters: 'servers',
    env,
    port: vars.PORT ? infra.PORT : 8080,
    runtime: { functions: infra.AMAS_FUNCTION_TRANSPORT === 'kafka' ? [fn] : [], demoAgents: false, recovery: false, processMetrics: true },
  };
}

export interface Booted {
  plan: RolePlan;
  env: Env;
  logger: Logger;
  adapters: ChosenAdapters;
  runtime: Runtime;
  /** In shutdown order: the runtime (finishes in-flight events), the adapters, tracing. */
  stoppables: { stop(): Promise<void> }[];
}

/**
 * The one composition root: parses the environment once (`loadEnv`; a bad value is a ConfigError
 * naming the variable), picks the role's adapters and starts the runtime. Entry points add only
 * their transport (HTTP API, function endpoint, Lambda handlers) over what this returns.
 */
export async function boot(role: Role, vars: Record<string, string | undefined> = process.env): Promise<Booted> {
  const plan = planRole(role, loadEnv(vars), vars);
  const { config } = plan.env;
  // Lambda spans are flushed at the end of each invocation (lambda-sqs.ts): a frozen container exports nothing.
  const tracing = await startTracing(plan.tracingName, config, vars);
  const logger = createLogger(config.ORCHESTRATION_LOG_LEVEL, plan.name);
  // Imported on demand: the Lambda bundle never evaluates PGlite or kafkajs, the servers never the AWS SDK.
  const adapters =
    plan.adapters === 'lambda'
      ? await (await import('./lambda-adapters.js')).lambdaAdapters(plan.env, logger)
      : await (await import('./adapters-from-env.js')).adaptersFromEnv(plan.env, logger);
  const { processMetrics, ...options } = plan.runtime;
  const runtime = await startRuntime({ config, adapters, logger, ...options, ...(processMetrics ? { metrics: createMetrics({ defaultMetrics: true }) } : {}) });
  return { plan, env: plan.env, logger, adapters, runtime, stoppables: [runtime, { stop: () => adapters.close() }, ...(tracing ? [tracing] : [])] };
}
