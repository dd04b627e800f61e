import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable } from './ensure-table.dynamodb.js';

/**
 * The agent directory's table: one generic key (pk, sk), four kinds of items, no index.
 * - (`agent`, id): an agent's record. All agents share one partition so that `list` and
 *   `candidates` are one strongly consistent Query (an index would be eventually consistent and hide
 *   a reservation made a moment ago). Every reserve/release writes there: a write ceiling near
 *   1,000 writes/s on AWS, far above what a few hundred agents produce.
 * - (`slot#<agent>`, workKey): a slot the agent holds; it exists exactly while the load counts it.
 * - (`outcome#<agent>`, workKey): the outcome of that work was counted; `ttl` drops it later.
 * - (`work#<agent>`, subtaskId): a WORKED_ON record.
 * - (`lineage#<workflow>`, `subtask#<id>` | `output#<subtask>#<attempt>`): the workflow's lineage.
 */
export const agentTable = {
  partitionKey: 'pk',
  sortKey: 'sk',
  agentsPartition: 'agent',
  slotPartition: (agentId: string) => `slot#${agentId}`,
  outcomePartition: (agentId: string) => `outcome#${agentId}`,
  workPartition: (agentId: string) => `work#${agentId}`,
  lineagePartition: (workflowId: string) => `lineage#${workflowId}`,
} as const;

/** Idempotent: creates the table (on demand) with TTL on `ttl`, and waits until it is active. */
export async function ensureAgentTable(client: DynamoDBClient, table: string): Promise<void> {
  await ensureTable(client, {
    TableName: table,
    AttributeDefinitions: [
      { AttributeName: agentTable.partitionKey, AttributeType: 'S' },
      { AttributeName: agentTable.sortKey, AttributeType: 'S' },
    ],
    KeySchema: [
      { AttributeName: agentTable.partitionKey, KeyType: 'HASH' },
      { AttributeName: agentTable.sortKey, KeyType: 'RANGE' },
    ],
  });
}
