import type { Server } from 'node:http';
import { loadConfig, loadInfra } from '../config.js';
import { ConfigError } from '../errors.js';
import { adaptersFromEnv } from './adapters-from-env.js';
import { createApiApp } from './api/app.js';
import { createLogger } from './logger.js';
import { startRuntime } from './runtime.js';

/** `npm start`: the whole orchestrator in one process, on embedded stand-ins unless servers are configured. */
async function main(): Promise<void> {
  const config = loadConfig();
  const infra = loadInfra();
  const logger = createLogger(config.ORCHESTRATION_LOG_LEVEL, 'amas');
  const adapters = await adaptersFromEnv(config, infra, logger);
  const runtime = await startRuntime({ config, adapters, logger, demoAgents: config.ORCHESTRATION_DEMO_AGENTS });
  const app = createApiApp(runtime);
  const server: Server = await new Promise((resolve) => {
    const listening = app.listen(infra.PORT, '0.0.0.0', () => resolve(listening));
  });
  const address = server.address();
  const port = typeof address === 'object' && address ? address.port : infra.PORT;
  process.stdout.write(
    [
      `amas-orchestration listening on http://localhost:${port}`,
      `  event bus : ${adapters.labels.bus}`,
      `  state     : ${adapters.labels.store}`,
      `  leases    : ${adapters.labels.leases}`,
      `  agents    : ${adapters.labels.directory}${config.ORCHESTRATION_DEMO_AGENTS ? ' + DEMO agents (simulated work, no real AI)' : ''}`,
      `try: curl -s -XPOST localhost:${port}/v1/tasks -H 'content-type: application/json' -d '{"description":"Research AI market trends and create presentation"}'`,
      '',
    ].join('\n'),
  );

  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    server.close();
    await runtime.stop();
    await adapters.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`amas-orchestration failed to start: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
