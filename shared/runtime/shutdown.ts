import type { Server } from 'node:http';
import type { Logger } from '../observability/logger.js';

const shutdownDeadlineMs = 25_000; // under Kubernetes' default 30 s grace period

/**
 * SIGTERM / SIGINT: stop accepting requests (if it serves any), let the runtime finish its in-flight events (and commit
 * them), close the adapters, exit 0 — or exit 1 if that outlasts the grace period.
 */
export function exitGracefullyOnSignals(server: Server | null, steps: { stop(): Promise<void> }[], logger: Logger): void {
  let stopping = false;
  const shutdown = async (signal: string): Promise<void> => {
    if (stopping) return;
    stopping = true;
    logger.info('shutting down', { signal });
    setTimeout(() => {
      logger.error('shutdown took too long; exiting', { deadlineMs: shutdownDeadlineMs });
      process.exit(1);
    }, shutdownDeadlineMs).unref();
    server?.close();
    try {
      for (const step of steps) await step.stop();
    } catch (error) {
      logger.error('stop failed', { error: error instanceof Error ? error.message : String(error) });
      process.exit(1);
    }
    logger.info('stopped', { signal });
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
}
