import { createDynamoClient } from '../adapters/dynamodb/dynamodb-client.js';
import { createDynamoLeaseStore } from '../adapters/dynamodb/lease-store.dynamodb.js';
import { ensureLeaseTable } from '../adapters/dynamodb/lease-table.dynamodb.js';
import { createSqsClient } from '../adapters/sqs/sqs-client.js';
import { createSqsEventBus } from '../adapters/sqs/event-bus.sqs.js';
import { sqsQueueGroups } from '../adapters/sqs/sqs-topology.js';
import { createPgClient } from '../adapters/sql/sql-client.pg.js';
import { createSqlWorkflowStore } from '../adapters/sql/workflow-store.sql.js';
import type { Env } from '../env.js';
import { ConfigError } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import type { ChosenAdapters } from './adapters-from-env.js';
import { lambdaDirectory } from './lambda-directory.js';
import { choosePlanner } from './planner-from-env.js';

/**
 * The Lambda role's adapters: SQS carries the events, DynamoDB the leases, PostgreSQL the state
 * (two connections per container), and the agent directory every container shares (Neo4j with
 * NEO4J_URL, else DynamoDB). Locally (an endpoint is set) the queues and tables are created here;
 * on AWS infrastructure code does, and the function's role needs no create rights.
 */
export async function lambdaAdapters({ config, infra, llm }: Env, logger: Logger): Promise<ChosenAdapters> {
  if (!infra.DATABASE_URL) throw new ConfigError('Invalid configuration: DATABASE_URL is required on Lambda');
  const bus = createSqsEventBus({
    client: createSqsClient(infra.SQS_ENDPOINT),
    queuePrefix: infra.SQS_QUEUE_PREFIX,
    maxReceiveCount: infra.SQS_MAX_RECEIVE_COUNT,
    onError: (error, context) => logger.warn('sqs', { context, error: String(error) }),
  });
  if (infra.SQS_ENDPOINT) {
    for (const { topic, groupId } of sqsQueueGroups) await bus.ensureGroup(topic, groupId);
  }
  const dynamo = createDynamoClient(infra.DYNAMODB_ENDPOINT);
  if (infra.DYNAMODB_ENDPOINT) await ensureLeaseTable(dynamo, infra.LEASE_TABLE);
  const agents = await lambdaDirectory(infra, config, dynamo);
  const store = createSqlWorkflowStore(createPgClient(infra.DATABASE_URL, { schema: infra.DATABASE_SCHEMA, maxConnections: 2 }));
  const planner = choosePlanner(llm, logger);
  return {
    bus,
    store,
    leases: createDynamoLeaseStore({ client: dynamo, table: infra.LEASE_TABLE }),
    directory: agents.directory,
    healthChecks: agents.healthChecks,
    planner: planner.planner,
    apiKeys: null,
    labels: {
      bus: `SQS${infra.SQS_ENDPOINT ? ` (${infra.SQS_ENDPOINT})` : ''}`,
      store: 'PostgreSQL',
      leases: `DynamoDB (${infra.LEASE_TABLE})`,
      directory: infra.NEO4J_URL ? 'Neo4j' : `DynamoDB (${infra.AGENT_TABLE})`,
      planner: planner.label,
    },
    async close() {
      await bus.close();
      await store.close();
      await agents.close();
      dynamo.destroy();
    },
  };
}
