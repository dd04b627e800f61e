import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Config } from '../config.js';
import { createDynamoAgentDirectory } from '../adapters/dynamodb/agent-directory.dynamodb.js';
import { ensureAgentTable } from '../adapters/dynamodb/agent-table.dynamodb.js';
import { createNeo4jAgentDirectory } from '../adapters/neo4j/agent-directory.neo4j.js';
import { directoryCacheOptions } from '../adapters/neo4j/candidate-cache.js';
import { createNeo4jDriver } from '../adapters/neo4j/driver.js';
import { neo4jHealthCheck } from '../adapters/neo4j/health.js';
import type { HealthCheck } from '../adapters/resilient.js';
import type { AgentDirectory } from '../ports/agent-directory.port.js';

export interface LambdaDirectorySettings {
  NEO4J_URL?: string;
  NEO4J_NAMESPACE: string;
  AGENT_TABLE: string;
  /** Set locally only: the table is then created here; on AWS infrastructure code creates it. */
  DYNAMODB_ENDPOINT?: string;
}

/**
 * The agent directory every container of every function shares (a per-container one would give
 * each its own agents, loads and slots): the Neo4j graph when NEO4J_URL is set, else the DynamoDB
 * table AGENT_TABLE beside the leases.
 */
export async function lambdaDirectory(
  settings: LambdaDirectorySettings,
  config: Pick<Config, 'ORCHESTRATION_MAX_TASKS_PER_AGENT' | 'ORCHESTRATION_ENABLE_CACHE' | 'ORCHESTRATION_HEARTBEAT_INTERVAL'>,
  dynamo: DynamoDBClient,
): Promise<{ directory: AgentDirectory; healthChecks: HealthCheck[]; close(): Promise<void> }> {
  const maxTasksPerAgent = config.ORCHESTRATION_MAX_TASKS_PER_AGENT;
  if (settings.NEO4J_URL) {
    const driver = createNeo4jDriver(settings.NEO4J_URL);
    const graph = createNeo4jAgentDirectory(driver, { maxTasksPerAgent, namespace: settings.NEO4J_NAMESPACE, ...directoryCacheOptions(config) });
    await graph.migrate();
    return { directory: graph, healthChecks: [neo4jHealthCheck(driver)], close: () => driver.close() };
  }
  if (settings.DYNAMODB_ENDPOINT) await ensureAgentTable(dynamo, settings.AGENT_TABLE);
  return { directory: createDynamoAgentDirectory({ client: dynamo, table: settings.AGENT_TABLE, maxTasksPerAgent }), healthChecks: [], close: async () => {} };
}
