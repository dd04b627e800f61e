import { ConditionalCheckFailedException, PutItemCommand, QueryCommand, UpdateItemCommand, type DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { outputIdOf } from '../../domain/lineage.js';
import type { LineageRecord, OutputRecord, WorkLineage, WorkOutcome } from '../../ports/agent-directory.port.js';
import { agentTable } from './agent-table.dynamodb.js';
import { N, S, names, type Item } from './agent-item.dynamodb.js';

const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A workflow's lineage in one partition (`lineage#<workflow>`): a `subtask#<id>` item per subtask
 * whose DEPENDS_ON edges are a string set (ADD is idempotent, so a redelivery adds nothing), and an
 * `output#<subtask>#<attempt>` item per produced output, written once (conditional put).
 */
export function createDynamoLineage(client: DynamoDBClient, TableName: string) {
  const pk = (workflowId: string) => S(agentTable.lineagePartition(workflowId));

  const addSubtask = (workflowId: string, subtaskId: string, dependsOn: readonly string[]) =>
    client.send(
      new UpdateItemCommand({
        TableName,
        Key: { pk: pk(workflowId), sk: S(`subtask#${subtaskId}`) },
        UpdateExpression: `SET #subtaskId = :id${dependsOn.length ? ' ADD #dependsOn :deps' : ''}`,
        ExpressionAttributeNames: names('subtaskId', ...(dependsOn.length ? ['dependsOn'] : [])),
        ExpressionAttributeValues: { ':id': S(subtaskId), ...(dependsOn.length ? { ':deps': { SS: [...dependsOn] } } : {}) },
      }),
    );

  return {
    /** Records the subtask's edges and, when it produced one, the attempt's output; true when the output is new. */
    async record(agentId: string, subtaskId: string, workflowId: string, outcome: WorkOutcome, at: number, lineage: WorkLineage): Promise<boolean> {
      await Promise.all([
        addSubtask(workflowId, subtaskId, lineage.dependsOn),
        ...lineage.dependsOn.map((dependency) => addSubtask(workflowId, dependency, [])),
      ]);
      if (!lineage.produced) return false;
      const id = outputIdOf(subtaskId, lineage.attempt);
      const item: Item = {
        pk: pk(workflowId),
        sk: S(`output#${id}`),
        subtaskId: S(subtaskId),
        attempt: N(lineage.attempt),
        agentId: S(agentId),
        success: { BOOL: outcome.success },
        quality: N(outcome.quality),
        durationMs: N(outcome.durationMs),
        at: N(at),
      };
      try {
        await client.send(
          new PutItemCommand({ TableName, Item: item, ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: names('pk') }),
        );
        return true;
      } catch (error) {
        if (error instanceof ConditionalCheckFailedException) return false;
        throw error;
      }
    },

    async of(workflowId: string): Promise<LineageRecord> {
      const found: Item[] = [];
      let ExclusiveStartKey: Item | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName,
            ConsistentRead: true,
            KeyConditionExpression: '#pk = :pk',
            ExpressionAttributeNames: names('pk'),
            ExpressionAttributeValues: { ':pk': pk(workflowId) },
            ExclusiveStartKey,
          }),
        );
        found.push(...(page.Items ?? []));
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      const subtasks = found
        .filter((item) => item.sk!.S!.startsWith('subtask#'))
        .map((item) => ({ id: item.subtaskId!.S!, dependsOn: [...(item.dependsOn?.SS ?? [])].sort(byText) }))
        .sort((a, b) => byText(a.id, b.id));
      const outputs: OutputRecord[] = found
        .filter((item) => item.sk!.S!.startsWith('output#'))
        .map((item) => ({
          id: item.sk!.S!.slice('output#'.length),
          subtaskId: item.subtaskId!.S!,
          attempt: Number(item.attempt!.N),
          agentId: item.agentId!.S!,
          success: item.success?.BOOL ?? false,
          quality: Number(item.quality!.N),
          durationMs: Number(item.durationMs!.N),
          at: Number(item.at!.N),
        }))
        .sort((a, b) => byText(a.subtaskId, b.subtaskId) || a.attempt - b.attempt);
      return { subtasks, outputs };
    },
  };
}
