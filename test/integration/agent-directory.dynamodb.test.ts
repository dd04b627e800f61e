import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DescribeTimeToLiveCommand, GetItemCommand, QueryCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoAgentDirectory } from '../../shared/adapters/dynamodb/agent-directory.dynamodb.js';
import { ensureAgentTable } from '../../shared/adapters/dynamodb/agent-table.dynamodb.js';
import { createDynamoClient } from '../../shared/adapters/dynamodb/dynamodb-client.js';
import { NotFoundError } from '../../shared/errors.js';
import type { AgentDirectory, AgentRegistration } from '../../shared/ports/agent-directory.port.js';
import { agentDirectoryContract } from '../contract/agent-directory.contract.js';

const endpoint = process.env.DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:8001';
const client = createDynamoClient(endpoint);
const tables: string[] = [];
/** A fresh table per directory: the contract wants an EMPTY one, and the agents share one partition. */
async function freshTable(): Promise<string> {
  const table = `amas-agents-test-${randomUUID().slice(0, 8)}`;
  tables.push(table);
  await ensureAgentTable(client, table);
  return table;
}

afterAll(async () => {
  await Promise.all(tables.map((TableName) => client.send(new DeleteTableCommand({ TableName })).catch(() => undefined)));
  client.destroy();
});

agentDirectoryContract('dynamodb (DynamoDB Local)', async () => {
  const subject = createDynamoAgentDirectory({ client, table: await freshTable() });
  return { subject, cleanup: () => subject.close() };
});

const registration = (id: string, capacity: number): AgentRegistration => ({ id, layer: 'SPECIALIST', specialties: ['data_analyst'], capacity, demo: false });

describe('DynamoDB agent directory', () => {
  let table: string;
  let directory: AgentDirectory;
  beforeAll(async () => {
    table = await freshTable();
    directory = createDynamoAgentDirectory({ client, table });
  });

  it('grants exactly capacity of 40 concurrent reserves, from two clients (two Lambda containers)', async () => {
    await directory.register(registration('race', 5), 0);
    const other = createDynamoAgentDirectory({ client: createDynamoClient(endpoint), table });
    const granted = await Promise.all(Array.from({ length: 40 }, (_, i) => (i % 2 ? other : directory).reserve('race', `w${i}`)));
    expect(granted.filter(Boolean)).toHaveLength(5);
    expect(await other.get('race')).toMatchObject({ load: 5, status: 'OVERLOADED' });
    const { Items = [] } = await client.send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': { S: 'slot#race' } },
        ConsistentRead: true,
      }),
    );
    expect(Items.map((i) => i.sk!.S).sort()).toEqual(granted.flatMap((ok, i) => (ok ? [`w${i}`] : [])).sort());
  });

  it('counts one slot for 20 concurrent reserves of one work key, and frees it once for 20 concurrent releases', async () => {
    await directory.register(registration('same', 3), 0);
    expect(await Promise.all(Array.from({ length: 20 }, () => directory.reserve('same', 'w')))).toEqual(Array(20).fill(true));
    expect((await directory.get('same'))!.load).toBe(1);
    const outcome = { success: true, quality: 0.9, durationMs: 100 };
    await Promise.all(Array.from({ length: 20 }, () => directory.release('same', 'w', outcome)));
    expect(await directory.get('same')).toMatchObject({ load: 0, completed: 1, averageQuality: 0.9 });
  });

  it('caps every agent at maxTasksPerAgent and keeps reservations and track record across re-registration', async () => {
    const capped = createDynamoAgentDirectory({ client, table, maxTasksPerAgent: 2 });
    await capped.register(registration('capped', 5), 0);
    expect([await capped.reserve('capped', 'a'), await capped.reserve('capped', 'b'), await capped.reserve('capped', 'c')]).toEqual([true, true, false]);
    await capped.release('capped', 'z', { success: false, quality: 0.2, durationMs: 10 });
    expect(await capped.register(registration('capped', 3), 50)).toMatchObject({
      capacity: 3,
      load: 2,
      failed: 1,
      registeredAt: 0,
      lastHeartbeat: 50,
      status: 'OVERLOADED',
    });
    // race, same and capped so far, each counted at the cap of 2.
    expect((await capped.hierarchyStatus(50, 1_000)).pools.analysis.capacity).toBe(2 + 2 + 2);
  });

  it('refuses heartbeats, status changes and work records of unknown agents; ignores their release', async () => {
    await expect(directory.heartbeat('nobody', 1)).rejects.toBeInstanceOf(NotFoundError);
    await expect(directory.setStatus('nobody', 'FAILED')).rejects.toBeInstanceOf(NotFoundError);
    await expect(directory.recordWork!('nobody', 's', 'w', { success: true, quality: 1, durationMs: 1 })).rejects.toBeInstanceOf(NotFoundError);
    await expect(directory.release('nobody', 'w')).resolves.toBeUndefined();
    expect(await directory.get('nobody')).toBeNull();
  });

  it('marks a counted outcome with a TTL, and the table has TTL on', async () => {
    await directory.register(registration('ttl', 1), 0);
    const before = Date.now();
    await directory.release('ttl', 'w', { success: true, quality: 1, durationMs: 1 });
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { pk: { S: 'outcome#ttl' }, sk: { S: 'w' } }, ConsistentRead: true }));
    expect(Number(Item!.ttl!.N) * 1_000).toBeGreaterThanOrEqual(before + 13 * 86_400_000);
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(TimeToLiveDescription).toMatchObject({ AttributeName: 'ttl', TimeToLiveStatus: 'ENABLED' });
    await ensureAgentTable(client, table); // idempotent
  });
});
