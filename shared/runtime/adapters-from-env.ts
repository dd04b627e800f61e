import type { Config, InfraConfig } from '../config.js';
import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import { systemClock } from '../adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { createMemoryLeaseStore } from '../adapters/memory/lease-store.memory.js';
import { createPgClient } from '../adapters/sql/sql-client.pg.js';
import { createPgliteClient } from '../adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../adapters/sql/workflow-store.sql.js';
import type { Adapters } from './runtime.js';

export interface ChosenAdapters extends Adapters {
  /** What each port runs on, for the start-up banner and /health. */
  labels: Record<'bus' | 'store' | 'leases' | 'directory', string>;
  close(): Promise<void>;
}

/**
 * Each unset server variable falls back to its embedded stand-in, so `npm start` needs no server;
 * setting KAFKA_BROKERS, DATABASE_URL, REDIS_URL or NEO4J_URL switches that port to the real one.
 */
export async function adaptersFromEnv(config: Config, infra: InfraConfig): Promise<ChosenAdapters> {
  const sql = infra.DATABASE_URL ? createPgClient(infra.DATABASE_URL) : await createPgliteClient();
  const store = createSqlWorkflowStore(sql);
  const bus = createMemoryEventBus({ partitions: infra.KAFKA_PARTITIONS });
  const leases = createMemoryLeaseStore(systemClock);
  const directory = createMemoryAgentDirectory({ maxTasksPerAgent: config.ORCHESTRATION_MAX_TASKS_PER_AGENT });
  return {
    bus,
    store,
    leases,
    directory,
    labels: {
      bus: 'in-process event log',
      store: infra.DATABASE_URL ? `PostgreSQL (${redact(infra.DATABASE_URL)})` : 'PGlite (in-process PostgreSQL)',
      leases: 'in-memory leases',
      directory: 'in-memory agent directory',
    },
    async close() {
      await bus.close();
      await leases.close();
      await directory.close();
      await store.close();
    },
  };
}

const redact = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
