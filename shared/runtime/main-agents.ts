import type { Server } from 'node:http';
import express from 'express';
import { loadConfig, loadInfra } from '../config.js';
import { adaptersFromEnv } from './adapters-from-env.js';
import { createLogger } from '../observability/logger.js';
import { startRuntime } from './runtime.js';
import { exitOnStartupError } from './serve-api.js';
import { exitGracefullyOnSignals } from './shutdown.js';
import { startTracing } from '../observability/tracing/index.js';

/**
 * `npx tsx shared/runtime/main-agents.ts`: only the labelled DEMO agents (no function consumer, no
 * recovery loop), with /health/orchestration on PORT (default 8090). Hosting them apart from the API
 * lets them die (kill -9) while the orchestrator lives, which is how a lost agent is exercised.
 */
async function main(): Promise<void> {
  const config = loadConfig();
  const tracing = await startTracing('amas-agents', config);
  // The embedded data directory belongs to `npm start`: two processes must never open one PGlite store.
  const infra = { ...loadInfra(), AMAS_DATA_DIR: null };
  const port = process.env.PORT ? infra.PORT : 8090;
  const logger = createLogger(config.ORCHESTRATION_LOG_LEVEL, 'amas-agents');
  const adapters = await adaptersFromEnv(config, infra, logger);
  const runtime = await startRuntime({ config, adapters, logger, functions: [], demoAgents: true, demoInstance: infra.AMAS_DEMO_AGENT_INSTANCE, recovery: false });
  const agents = runtime.demoAgents?.agentIds().length ?? 0;

  const app = express();
  app.disable('x-powered-by');
  app.get('/health/orchestration', (_req, res) => {
    res.json({ status: 'healthy', process: 'amas-agents', agents, uptimeSeconds: Math.round(process.uptime()) });
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(port, '0.0.0.0', () => resolve(listening));
  });
  logger.info('agents process running', { agents, port });

  exitGracefullyOnSignals(server, [runtime, { stop: () => adapters.close() }, ...(tracing ? [tracing] : [])], logger);
}

main().catch((error: unknown) => exitOnStartupError(error, 'amas-agents'));
