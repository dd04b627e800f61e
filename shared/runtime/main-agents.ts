import type { Server } from 'node:http';
import express from 'express';
import { boot } from './boot.js';
import { exitOnStartupError } from './serve-api.js';
import { exitGracefullyOnSignals } from './shutdown.js';

/**
 * `npx tsx shared/runtime/main-agents.ts`: only the labelled DEMO agents (no function consumer, no
 * recovery loop), with /health/orchestration on PORT (default 8090). Hosting them apart from the API
 * lets them die (kill -9) while the orchestrator lives, which is how a lost agent is exercised.
 */
async function main(): Promise<void> {
  const { plan, logger, runtime, stoppables } = await boot('agents');
  const agents = runtime.demoAgents?.agentIds().length ?? 0;

  const app = express();
  app.disable('x-powered-by');
  app.get('/health/orchestration', (_req, res) => {
    res.json({ status: 'healthy', process: 'amas-agents', agents, uptimeSeconds: Math.round(process.uptime()) });
  });
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(plan.port, '0.0.0.0', () => resolve(listening));
  });
  logger.info('agents process running', { agents, port: plan.port });

  exitGracefullyOnSignals(server, stoppables, logger);
}

main().catch((error: unknown) => exitOnStartupError(error, 'amas-agents'));
