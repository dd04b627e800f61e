import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DescribeTimeToLiveCommand, GetItemCommand } from '@aws-sdk/client-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../shared/adapters/dynamodb/dynamodb-client.js';
import { createDynamoLeaseStore } from '../../shared/adapters/dynamodb/lease-store.dynamodb.js';
import { ensureLeaseTable } from '../../shared/adapters/dynamodb/lease-table.dynamodb.js';
import type { LeaseStore } from '../../shared/ports/lease-store.port.js';
import { leaseStoreContract } from '../contract/lease-store.contract.js';

const client = createDynamoClient(process.env.DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:8001');
const table = `amas-leases-test-${randomUUID().slice(0, 8)}`;
let tableReady: Promise<void> | undefined;
const ensureTable = () => (tableReady ??= ensureLeaseTable(client, table));

afterAll(async () => {
  await client.send(new DeleteTableCommand({ TableName: table }));
  client.destroy();
});

leaseStoreContract('dynamodb (DynamoDB Local)', async () => {
  await ensureTable();
  const subject = createDynamoLeaseStore({ client, table });
  return { subject, cleanup: () => subject.close() };
});

describe('DynamoDB lease store', () => {
  let leases: LeaseStore;
  beforeAll(async () => {
    await ensureTable();
    leases = createDynamoLeaseStore({ client, table });
  });

  it('lets exactly one of 50 concurrent holders win a key', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, (_, i) => leases.acquire('race', `holder-${i}`, 10_000)));
    const winners = results.filter((lease) => lease !== null);
    expect(winners).toHaveLength(1);
    expect(await leases.get('race')).toEqual(winners[0]);
  });

  it('hands out strictly increasing tokens across 200 acquire/release cycles, kept in a counter item', async () => {
    let last = 0;
    for (let i = 0; i < 200; i++) {
      const lease = await leases.acquire('cycle', `holder-${i % 3}`, 10_000);
      expect(lease!.token).toBeGreaterThan(last);
      last = lease!.token;
      expect(await leases.release('cycle', lease!.token)).toBe(true);
    }
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { leaseKey: { S: 'cycle' }, kind: { S: 'fence' } }, ConsistentRead: true }));
    expect(Number(Item!.fence!.N)).toBe(last);
  });

  it('keeps a lease across two store instances', async () => {
    const second = createDynamoLeaseStore({ client: createDynamoClient(process.env.DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:8001'), table });
    const lease = await leases.acquire('shared', 'h1', 10_000);
    expect(await second.get('shared')).toEqual(lease);
    expect(await second.acquire('shared', 'h2', 10_000)).toBeNull();
    expect(await second.renew('shared', lease!.token, 20_000)).toBe(true);
    expect(await second.release('shared', lease!.token)).toBe(true);
    expect(await leases.get('shared')).toBeNull();
  });

  it('writes a TTL attribute an hour past expiry, and the table has TTL on', async () => {
    const lease = await leases.acquire('ttl', 'h', 5_000);
    const { Item } = await client.send(new GetItemCommand({ TableName: table, Key: { leaseKey: { S: 'ttl' }, kind: { S: 'lease' } }, ConsistentRead: true }));
    expect(Number(Item!.ttl!.N)).toBe(Math.ceil((lease!.expiresAt + 3_600_000) / 1_000));
    const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
    expect(TimeToLiveDescription).toMatchObject({ AttributeName: 'ttl', TimeToLiveStatus: 'ENABLED' });
    await ensureLeaseTable(client, table); // idempotent
  });

  it('lists expired leases oldest first, on the clock of the caller', async () => {
    let now = 1_000;
    const clocked = createDynamoLeaseStore({ client, table, clock: { now: () => now } });
    const prefix = randomUUID().slice(0, 8);
    await clocked.acquire(`${prefix}-b`, 'h', 200);
    await clocked.acquire(`${prefix}-a`, 'h', 100);
    const mine = async (at: number) => (await clocked.listExpired(at, 1_000)).map((l) => l.key).filter((k) => k.startsWith(prefix));
    expect(await mine(1_099)).toEqual([]);
    now = 1_100;
    expect(await clocked.acquire(`${prefix}-a`, 'other', 150)).toMatchObject({ holder: 'other', expiresAt: 1_250 });
    expect(await mine(1_300)).toEqual([`${prefix}-b`, `${prefix}-a`]);
  });
});
