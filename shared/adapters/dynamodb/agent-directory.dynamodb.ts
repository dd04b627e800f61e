import {
  ConditionalCheckFailedException,
  GetItemCommand,
  QueryCommand,
  TransactionCanceledException,
  TransactWriteItemsCommand,
  UpdateItemCommand,
  type DynamoDBClient,
  type TransactWriteItem,
} from '@aws-sdk/client-dynamodb';
import { NotFoundError } from '../../errors.js';
import { groupOf, leadRoleOf } from '../../domain/vocabulary.js';
import { servesTenant } from '../../domain/agent-tenancy.js';
import type { AgentDirectory, AgentRecord } from '../../ports/agent-directory.port.js';
import { byAgentId, summariseHierarchy } from '../hierarchy-summary.js';
import { agentTable } from './agent-table.dynamodb.js';
import * as items from './agent-item.dynamodb.js';
import { createDynamoLineage } from './agent-lineage.dynamodb.js';

const { N, S, names, agentKey, slotKey, outcomeKey, workKeyOf } = items;

export interface DynamoAgentDirectoryOptions {
  client: DynamoDBClient;
  table: string;
  /** A cap on every agent's concurrent tasks, below its own capacity when smaller. */
  maxTasksPerAgent?: number;
  /** How long an outcome marker (a release counted once) is kept by DynamoDB TTL (default 14 days). */
  retainOutcomesMs?: number;
}

type Cancelled = readonly (string | undefined)[];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * AgentDirectory on DynamoDB, shared by every process (every Lambda container) that names the table.
 * A slot is an item of its own, written in one transaction with the agent's load: the slot's
 * existence makes reserve and release idempotent per work key, and the load's condition
 * (`load < capacity`, no explicit status) keeps concurrent reserves from overbooking an agent.
 * Outcomes are sums added in the same transaction as a once-only marker, so averages need no read.
 */
export function createDynamoAgentDirectory(options: DynamoAgentDirectoryOptions): AgentDirectory {
  const { client, table: TableName } = options;
  const cap = options.maxTasksPerAgent ?? Number.MAX_SAFE_INTEGER;
  const retainMs = options.retainOutcomesMs ?? 14 * 86_400_000;
  const toRecord = (item: items.Item) => items.toAgentRecord(item, cap);
  const lineages = createDynamoLineage(client, TableName);

  /** Runs a transaction: null when it committed, else each item's cancellation code. */
  async function transact(TransactItems: TransactWriteItem[]): Promise<Cancelled | null> {
    for (let attempt = 1; ; attempt++) {
      try {
        await client.send(new TransactWriteItemsCommand({ TransactItems }));
        return null;
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const codes = (error.CancellationReasons ?? []).map((reason) => (reason.Code === 'None' ? undefined : reason.Code));
        // Another transaction on the same items was in flight: run again, it decides afresh.
        if (codes.includes('TransactionConflict') && attempt < 25) {
          await sleep(5 + Math.random() * 20 * Math.min(attempt, 5));
          continue;
        }
        if (codes.some((code) => code !== undefined && code !== 'ConditionalCheckFailed')) throw error;
        return codes;
      }
    }
  }

  async function update(
    agentId: string,
    input: { UpdateExpression: string; ExpressionAttributeNames: Record<string, string>; ExpressionAttributeValues?: items.Item; ConditionExpression?: string },
  ): Promise<AgentRecord | null> {
    try {
      const { Attributes } = await client.send(new UpdateItemCommand({ TableName, Key: agentKey(agentId), ReturnValues: 'ALL_NEW', ...input }));
      return Attributes ? toRecord(Attributes) : null;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  /** An agent proven alive (a heartbeat, a registration): an OFFLINE verdict lifts; FAILED and MAINTENANCE stay. */
  async function liftOffline(record: AgentRecord): Promise<AgentRecord> {
    if (record.status !== 'OFFLINE') return record;
    const lifted = await update(record.id, {
      UpdateExpression: 'REMOVE #explicit',
      ConditionExpression: '#explicit = :offline',
      ExpressionAttributeNames: names('explicit'),
      ExpressionAttributeValues: { ':offline': S('OFFLINE') },
    });
    return lifted ?? record;
  }

  async function query(pk: string, filter?: { FilterExpression: string; ExpressionAttributeValues: items.Item }): Promise<items.Item[]> {
    const found: items.Item[] = [];
    let ExclusiveStartKey: items.Item | undefined;
    do {
      const page = await client.send(
        new QueryCommand({
          TableName,
          ConsistentRead: true,
          KeyConditionExpression: '#pk = :pk',
          FilterExpression: filter?.FilterExpression,
          ExpressionAttributeNames: names('pk', ...(filter ? ['specialties'] : [])),
          ExpressionAttributeValues: { ':pk': S(pk), ...filter?.ExpressionAttributeValues },
          ExclusiveStartKey,
        }),
      );
      found.push(...(page.Items ?? []));
      ExclusiveStartKey = page.LastEvaluatedKey;
    } while (ExclusiveStartKey);
    return found;
  }
  const list = async () => (await query(agentTable.agentsPartition)).map(toRecord).sort(byAgentId);
  const get = async (agentId: string) => {
    const { Item } = await client.send(new GetItemCommand({ TableName, Key: agentKey(agentId), ConsistentRead: true }));
    return Item ? toRecord(Item) : null;
  };
  const must = (record: AgentRecord | null, agentId: string): AgentRecord => {
    if (!record) throw new NotFoundError(`agent ${agentId}`);
    return record;
  };
  const agentExists = { ConditionExpression: 'attribute_exists(#pk)', ExpressionAttributeNames: names('pk') };

  return {
    async register(agent, now) {
      const record = await update(agent.id, items.registerUpdate(agent, now));
      return liftOffline(must(record, agent.id));
    },

    get,
    list,

    async candidates(specialty, tenant) {
      const found = await query(agentTable.agentsPartition, {
        FilterExpression: 'contains(#specialties, :specialty)',
        ExpressionAttributeValues: { ':specialty': S(specialty) },
      });
      return found
        .map(toRecord)
        .filter((r) => servesTenant(r, tenant))
        .sort(byAgentId);
    },

    async reserve(agentId, workKey) {
      const loadCondition = [
        'attribute_exists(#pk)',
        'attribute_not_exists(#explicit)',
        '#load < #capacity',
        ...(options.maxTasksPerAgent === undefined ? [] : ['#load < :max']),
      ];
      const cancelled = await transact([
        { Put: { TableName, Item: slotKey(agentId, workKey), ConditionExpression: 'attribute_not_exists(#pk)', ExpressionAttributeNames: names('pk') } },
        {
          Update: {
            TableName,
            Key: agentKey(agentId),
            UpdateExpression: 'SET #load = #load + :one',
            ConditionExpression: loadCondition.join(' AND '),
            ExpressionAttributeNames: names('pk', 'explicit', 'load', 'capacity'),
            ExpressionAttributeValues: { ':one': N(1), ...(options.maxTasksPerAgent === undefined ? {} : { ':max': N(cap) }) },
          },
        },
      ]);
      // Cancelled on the slot: this work key holds it already, so the answer is yes again.
      return cancelled === null || cancelled[0] !== undefined;
    },

    async release(agentId, workKey, outcome) {
      if (outcome) {
        const ttl = N(Math.ceil((Date.now() + retainMs) / 1_000));
        const counted = items.outcomeUpdate(outcome);
        await transact([
          {
            Put: {
              TableName,
              Item: { ...outcomeKey(agentId, workKey), ttl },
              ConditionExpression: 'attribute_not_exists(#pk)',
              ExpressionAttributeNames: names('pk'),
            },
          },
          {
            Update: {
              TableName,
              Key: agentKey(agentId),
              ...counted,
              ConditionExpression: 'attribute_exists(#pk)',
              ExpressionAttributeNames: { ...counted.ExpressionAttributeNames, ...names('pk') },
            },
          },
        ]);
      }
      await transact([
        { Delete: { TableName, Key: slotKey(agentId, workKey), ...agentExists } },
        {
          Update: {
            TableName,
            Key: agentKey(agentId),
            UpdateExpression: 'SET #load = #load - :one',
            ConditionExpression: 'attribute_exists(#pk) AND #load >= :one',
            ExpressionAttributeNames: names('pk', 'load'),
            ExpressionAttributeValues: { ':one': N(1) },
          },
        },
      ]);
    },

    async heldWork() {
      // The load counts the agent's slot items (one transaction writes both): only loaded agents hold any.
      const loaded = (await list()).filter((record) => record.load > 0);
      const held = await Promise.all(
        loaded.map(async ({ id }) => (await query(agentTable.slotPartition(id))).map((item) => ({ agentId: id, workKey: item.sk?.S ?? '' }))),
      );
      return held.flat();
    },

    async heartbeat(agentId, now) {
      const record = await update(agentId, {
        UpdateExpression: 'SET #lastHeartbeat = :now',
        ExpressionAttributeValues: { ':now': N(now) },
        ...withExists('lastHeartbeat'),
      });
      await liftOffline(must(record, agentId));
    },

    async setStatus(agentId, status) {
      const explicit = items.explicitStatuses.includes(status);
      const record = await update(agentId, {
        UpdateExpression: explicit ? 'SET #explicit = :status' : 'REMOVE #explicit',
        ...(explicit ? { ExpressionAttributeValues: { ':status': S(status) } } : {}),
        ...withExists('explicit'),
      });
      must(record, agentId);
    },

    async spawnedSince(group, since) {
      return (await list()).filter((r) => r.registeredAt >= since && r.specialties.some((s) => groupOf(s) === group)).length;
    },

    async hierarchyStatus(now, heartbeatTimeoutMs) {
      return summariseHierarchy(await list(), now, heartbeatTimeoutMs, (record) => Math.min(record.capacity, cap));
    },

    async supervisorOf(agentId) {
      const supervisorId = (await get(agentId))?.supervisorId;
      return supervisorId ? get(supervisorId) : null;
    },

    async leadFor(group) {
      const leads = (await list()).filter((r) => r.layer === 'MANAGEMENT' && r.role === leadRoleOf[group]);
      const set = (r: AgentRecord) => Number(items.explicitStatuses.includes(r.status));
      return leads.sort((a, b) => set(a) - set(b) || a.load - b.load || byAgentId(a, b))[0] ?? null;
    },

    async recordWork(agentId, subtaskId, workflowId, outcome, at = 0, lineage) {
      const cancelled = await transact([
        { ConditionCheck: { TableName, Key: agentKey(agentId), ...agentExists } },
        {
          Put: {
            TableName,
            Item: {
              ...workKeyOf(agentId, subtaskId),
              workflowId: S(workflowId),
              success: { BOOL: outcome.success },
              quality: N(outcome.quality),
              durationMs: N(outcome.durationMs),
              at: N(at),
            },
            ConditionExpression: 'attribute_not_exists(#pk)',
            ExpressionAttributeNames: names('pk'),
          },
        },
      ]);
      if (cancelled?.[0] !== undefined) throw new NotFoundError(`agent ${agentId}`);
      const produced = lineage ? await lineages.record(agentId, subtaskId, workflowId, outcome, at, lineage) : false;
      return cancelled === null || produced;
    },

    lineageOf: (workflowId) => lineages.of(workflowId),

    async workOf(agentId) {
      const work = (await query(agentTable.workPartition(agentId))).map(items.toWorkRecord);
      return work.sort((a, b) => a.at - b.at || (a.subtaskId < b.subtaskId ? -1 : a.subtaskId > b.subtaskId ? 1 : 0));
    },

    // The client belongs to the caller, who may share it.
    async close() {},
  };
}

/** An update of an existing agent only: `#pk` must exist, plus the names the update itself uses. */
const withExists = (...attributes: string[]) => ({ ConditionExpression: 'attribute_exists(#pk)', ExpressionAttributeNames: names('pk', ...attributes) });
