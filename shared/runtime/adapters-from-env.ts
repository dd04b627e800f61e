import { mkdir } from 'node:fs/promises';
import type { Env } from '../env.js';
import { circuitBreakerFromConfig } from '../circuit-breaker.js';
import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import { systemClock } from '../adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { createMemoryLeaseStore } from '../adapters/memory/lease-store.memory.js';
import { createRedisClient, createRedisLeaseStore } from '../adapters/redis/lease-store.redis.js';
import { defaultRetryPolicy, resilientLeaseStore, resilientWorkflowStore, type HealthCheck } from '../adapters/resilient.js';
import { createPgClient } from '../adapters/sql/sql-client.pg.js';
import { createPgliteClient } from '../adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../adapters/sql/workflow-store.sql.js';
import { createSqlChangeLog, createSqlDeadLetterRedrives } from '../adapters/sql/change-log.sql.js';
import { createSqlApiKeyStore } from '../adapters/sql/api-keys.sql.js';
import type { ApiKeyStore } from '../ports/api-key-store.port.js';
import type { Adapters } from './runtime.js';
import { choosePlanner } from './planner-from-env.js';
import type { Logger } from '../observability/logger.js';
import type { AgentDirectory, EventBus } from '../ports/index.js';
import type { Driver } from 'neo4j-driver';
import { createNeo4jDriver } from '../adapters/neo4j/driver.js';
import { createNeo4jAgentDirectory } from '../adapters/neo4j/agent-directory.neo4j.js';
import { directoryCacheOptions } from '../adapters/neo4j/candidate-cache.js';
import { neo4jHealthCheck } from '../adapters/neo4j/health.js';
import { createKafkaEventBus, defaultConsumerTimings } from '../adapters/kafka/event-bus.kafka.js';
import { createPlatformaticEventBus } from '../adapters/kafka-platformatic/event-bus.platformatic.js';

export interface ChosenAdapters extends Adapters {
  /** What each port runs on, for the start-up banner. */
  labels: Record<'bus' | 'store' | 'leases' | 'directory' | 'planner', string>;
  /** API keys (AMAS_AUTH=keys), in the workflow store's database; null where keys are not kept (Lambda). */
  apiKeys: ApiKeyStore | null;
  close(): Promise<void>;
}

/**
 * Each unset server variable falls back to its embedded stand-in, so `npm start` needs no server;
 * setting KAFKA_BROKERS, DATABASE_URL, REDIS_URL or NEO4J_URL switches that port to the real server, behind retries and a
 * circuit breaker whose state readiness reports.
 */
export async function adaptersFromEnv({ config, infra, llm }: Env, logger: Logger): Promise<ChosenAdapters> {
  const healthChecks: HealthCheck[] = [];
  const breaker = (name: string) => circuitBreakerFromConfig(name, config, systemClock);

  // PGlite makes its directory, not the parents (AMAS_DATA_DIR=./var/amas).
  if (!infra.DATABASE_URL && infra.AMAS_DATA_DIR) await mkdir(infra.AMAS_DATA_DIR, { recursive: true });
  const sql = infra.DATABASE_URL
    ? createPgClient(infra.DATABASE_URL, { groupCommit: infra.DATABASE_GROUP_COMMIT })
    : await createPgliteClient(infra.AMAS_DATA_DIR ?? undefined);
  let store = createSqlWorkflowStore(sql);
  if (infra.DATABASE_URL) {
    const resilient = resilientWorkflowStore(store, breaker('postgres'), defaultRetryPolicy, { dependency: 'postgres' });
    healthChecks.push(resilient);
    store = resilient;
  }

  let leases = createMemoryLeaseStore(systemClock);
  if (infra.REDIS_URL) {
    const resilient = resilientLeaseStore(
      createRedisLeaseStore(createRedisClient(infra.REDIS_URL), { quitOnClose: true }),
      breaker('redis'),
      defaultRetryPolicy,
      { dependency: 'redis' },
    );
    healthChecks.push(resilient);
    leases = resilient;
  }

  const bus: EventBus = !infra.KAFKA_BROKERS
    ? createMemoryEventBus({ partitions: infra.KAFKA_PARTITIONS, batch: { maxRecords: infra.KAFKA_BATCH_MAX_RECORDS, lingerMs: infra.KAFKA_BATCH_LINGER_MS } })
    : infra.KAFKA_CLIENT === 'platformatic'
      ? createPlatformaticEventBus({
          brokers: infra.KAFKA_BROKERS.split(',').map((b) => b.trim()),
          clientId: 'amas-orchestration',
          partitions: infra.KAFKA_PARTITIONS,
          topicPrefix: infra.KAFKA_TOPIC_PREFIX,
          consumer: consumerTimings(infra.KAFKA_SESSION_TIMEOUT_MS),
          logger,
        })
      : createKafkaEventBus({
          brokers: infra.KAFKA_BROKERS.split(',').map((b) => b.trim()),
          clientId: 'amas-orchestration',
          partitions: infra.KAFKA_PARTITIONS,
          keysConsumedConcurrently: infra.KAFKA_KEYS_CONCURRENCY,
          offsetCommitIntervalMs: infra.KAFKA_OFFSET_COMMIT_INTERVAL_MS,
          batch: { maxRecords: infra.KAFKA_BATCH_MAX_RECORDS, lingerMs: infra.KAFKA_BATCH_LINGER_MS },
          topicPrefix: infra.KAFKA_TOPIC_PREFIX,
          consumer: consumerTimings(infra.KAFKA_SESSION_TIMEOUT_MS),
          logger,
        });
  let directory: AgentDirectory = createMemoryAgentDirectory({ maxTasksPerAgent: config.ORCHESTRATION_MAX_TASKS_PER_AGENT });
  let driver: Driver | undefined;
  if (infra.NEO4J_URL) {
    driver = createNeo4jDriver(infra.NEO4J_URL);
    const graph = createNeo4jAgentDirectory(driver, {
      maxTasksPerAgent: config.ORCHESTRATION_MAX_TASKS_PER_AGENT,
      namespace: infra.NEO4J_NAMESPACE,
      ...directoryCacheOptions(config),
    });
    await graph.migrate();
    directory = graph;
    healthChecks.push(neo4jHealthCheck(driver));
  }
  const chosen = choosePlanner(llm, logger);
  return {
    bus,
    store,
    leases,
    directory,
    planner: chosen.planner,
    healthChecks,
    changeLog: createSqlChangeLog(sql),
    deadLetterRedrives: createSqlDeadLetterRedrives(sql),
    apiKeys: createSqlApiKeyStore(sql),
    labels: {
      bus: infra.KAFKA_BROKERS ? `Kafka (${infra.KAFKA_BROKERS}, ${infra.KAFKA_CLIENT})` : 'in-process event log',
      store: infra.DATABASE_URL
        ? `PostgreSQL (${redact(infra.DATABASE_URL)})`
        : infra.AMAS_DATA_DIR
          ? `PGlite (in-process PostgreSQL) at ${infra.AMAS_DATA_DIR}: kept across restarts (AMAS_DATA_DIR=memory keeps nothing)`
          : 'PGlite (in-process PostgreSQL) in memory: lost on restart (set AMAS_DATA_DIR to keep it)',
      leases: infra.REDIS_URL ? `Redis (${redact(infra.REDIS_URL)})` : 'in-memory leases',
      directory: infra.NEO4J_URL ? `Neo4j (${redact(infra.NEO4J_URL)})` : 'in-memory agent directory',
      planner: chosen.label,
    },
    async close() {
      await bus.close();
      await leases.close();
      await directory.close();
      await driver?.close();
      await store.close();
    },
  };
}

/** Heartbeats at a tenth of the session, rebalances bounded by it: a killed process's partitions move on within one session. */
const consumerTimings = (sessionTimeout: number) => ({
  ...defaultConsumerTimings,
  sessionTimeout,
  heartbeatInterval: Math.max(100, Math.floor(sessionTimeout / 10)),
  rebalanceTimeout: Math.max(sessionTimeout, 10_000),
});

const redact = (url: string): string => url.replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@');
