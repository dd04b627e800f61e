import type { Server } from 'node:http';
import { ConfigError } from '../errors.js';
import { createApiApp } from '../http-api/app.js';
import { exitGracefullyOnSignals } from './shutdown.js';
import { apiAuthFromInfra, isLoopback, rateLimiterFromInfra } from '../http-api/auth/from-infra.js';
import { boot } from './boot.js';

/**
 * The API process: the HTTP API, the outbox relay, the recovery loop and, in the embedded role, the
 * four functions' consumers (`main-api.ts` runs none, so the function Deployments own their
 * consumer groups and can scale to zero).
 */
export async function serveApi(role: 'embedded' | 'api'): Promise<void> {
  const { plan, env, logger, adapters, runtime, stoppables } = await boot(role);
  const { config, infra } = env;
  const { name } = plan;
  const functions = plan.runtime.functions ?? [];
  // With REDIS_URL every replica counts against one limit per credential.
  const limiter = rateLimiterFromInfra(infra);
  const auth = apiAuthFromInfra(infra, { keys: adapters.apiKeys, limiter });
  const app = createApiApp(runtime, { auth });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(infra.PORT, infra.HOST, () => resolve(listening));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : infra.PORT;
  process.stdout.write(
    [
      `${name} listening on http://localhost:${port}${isLoopback(infra.HOST) ? '' : ` (HOST=${infra.HOST})`}`,
      `  auth      : ${authLabel(infra.AMAS_AUTH)}`,
      `  functions : ${functions.length > 0 ? functions.join(', ') : 'none (run them with main-function.ts)'}`,
      `  event bus : ${adapters.labels.bus}`,
      `  state     : ${adapters.labels.store}`,
      `  leases    : ${adapters.labels.leases}`,
      `  planner   : ${adapters.labels.planner}`,
      `  agents    : ${adapters.labels.directory}${config.ORCHESTRATION_DEMO_AGENTS ? ' + DEMO agents (simulated work, no real AI)' : ''}`,
      `console   : http://localhost:${port}/console/   (CLI: npm run amas -- --help)`,
      `try: curl -s -XPOST localhost:${port}/v1/tasks -H 'content-type: application/json' -d '{"description":"Research AI market trends and create presentation"}'`,
      '',
    ].join('\n'),
  );

  exitGracefullyOnSignals(server, [...stoppables.slice(0, 2), { stop: () => limiter.close() }, ...stoppables.slice(2)], logger);
}

const authLabel = (mode: string) =>
  mode === 'none'
    ? 'none (loopback only: anyone on this machine may call the API)'
    : mode === 'oidc'
      ? 'OIDC bearer tokens (and API keys)'
      : 'API keys (amas keys create)';

/** Start-up failures: a configuration error is a message naming the variable (exit 2), anything else exit 1. */
export function exitOnStartupError(error: unknown, name: string): never {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`${name} failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
}
