import type { Server } from 'node:http';
import { functionSubscriptions, type ConsumerName } from '../events/index.js';
import { createOpsRoutes } from '../http-api/ops-routes.js';
import { createFunctionHttpApp } from '../bindings/function-http.js';
import { boot, functionNames } from './boot.js';
import { exitOnStartupError } from './serve-api.js';
import { exitGracefullyOnSignals } from './shutdown.js';

/**
 * `npx tsx shared/runtime/main-function.ts <decompose|assign|dispatch|complete>`: one function per
 * process, with /health, /ready and /metrics on PORT (default 8080).
 * - AMAS_FUNCTION_TRANSPORT=kafka (default): the function's own consumer group (KEDA scales it on lag);
 * - AMAS_FUNCTION_TRANSPORT=http: no consumer; CloudEvents POSTed to `/` (Knative KafkaSource).
 * Either way the outbox relay publishes what it commits. SIGTERM stops fetching, lets the in-flight
 * event finish, commits its offset and exits 0.
 */
async function main(): Promise<void> {
  const name = process.argv[2];
  if (!functionNames.includes(name as ConsumerName)) {
    process.stderr.write(
      `unknown function ${JSON.stringify(name ?? '')}: expected one of ${functionNames.join(', ')}\nusage: main-function.ts <${functionNames.join('|')}>\n`,
    );
    process.exit(2);
  }
  const fn = name as ConsumerName;
  const { plan, env, logger, runtime, stoppables } = await boot(`function:${fn}`);
  const app = createFunctionHttpApp(fn, runtime);
  app.use(createOpsRoutes(runtime, { functions: [fn], name: plan.name, backlogGatesReadiness: false }));
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(plan.port, '0.0.0.0', () => resolve(listening));
  });
  const { topic, groupId } = functionSubscriptions[fn];
  logger.info('function process running', { function: fn, transport: env.infra.AMAS_FUNCTION_TRANSPORT, topic, groupId, port: plan.port });

  exitGracefullyOnSignals(server, stoppables, logger);
}

main().catch((error: unknown) => exitOnStartupError(error, 'amas function'));
