import {
  ConditionalCheckFailedException,
  DeleteItemCommand,
  GetItemCommand,
  PutItemCommand,
  QueryCommand,
  UpdateItemCommand,
  type AttributeValue,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';
import type { Clock } from '../../ports/clock.port.js';
import type { Lease, LeaseStore } from '../../ports/lease-store.port.js';
import { systemClock } from '../memory/clock.system.js';
import { leaseTable } from './lease-table.dynamodb.js';

export interface DynamoLeaseStoreOptions {
  client: DynamoDBClient;
  table: string;
  /** Expiry is reckoned on the caller's clock, the same for every call. */
  clock?: Clock;
  /** How long DynamoDB TTL keeps a lease nobody released past its expiry (default 1 h). */
  retainExpiredMs?: number;
}

type Item = Record<string, AttributeValue>;
const S = (value: string): AttributeValue => ({ S: value });
const N = (value: number): AttributeValue => ({ N: String(value) });

const leaseItemKey = (key: string): Item => ({ leaseKey: S(key), kind: S('lease') });
const fenceItemKey = (key: string): Item => ({ leaseKey: S(key), kind: S('fence') });

function toLease(item: Item | undefined): Lease | null {
  if (!item?.holder?.S) return null;
  return { key: item.leaseKey!.S!, holder: item.holder.S, token: Number(item.token!.N), expiresAt: Number(item.expiresAt!.N) };
}

/** True when DynamoDB refused a write because its condition did not hold: an expected outcome. */
async function conditional(write: () => Promise<unknown>): Promise<boolean> {
  try {
    await write();
    return true;
  } catch (error) {
    if (error instanceof ConditionalCheckFailedException) return false;
    throw error;
  }
}

/**
 * Leases with fencing tokens on DynamoDB, conditional writes only (no transactions, no locks).
 * Tokens come from a per-key counter item (`ADD fence 1`): strictly increasing, never reused, with
 * gaps where a contender lost the race. GSI reads (renewHolder, listExpired) are eventually
 * consistent on AWS: a lease acquired a moment ago may be missed by one heartbeat, and a listed
 * lease may have been released since; every write that follows is conditional on the token.
 */
export function createDynamoLeaseStore(options: DynamoLeaseStoreOptions): LeaseStore {
  const { client, table: TableName } = options;
  const clock = options.clock ?? systemClock;
  const retainMs = options.retainExpiredMs ?? 3_600_000;
  const ttlOf = (expiresAt: number) => N(Math.ceil((expiresAt + retainMs) / 1_000));

  /** Extends a live lease of `holder` (optionally only with `token`), returning it, else null. */
  async function extend(key: string, ttlMs: number, guard: { holder?: string; token?: number }): Promise<Lease | null> {
    const now = clock.now();
    const expiresAt = now + ttlMs;
    const conditions = ['expiresAt > :now'];
    const values: Item = { ':now': N(now), ':exp': N(expiresAt), ':ttl': ttlOf(expiresAt) };
    if (guard.holder !== undefined) {
      conditions.push('holder = :holder');
      values[':holder'] = S(guard.holder);
    }
    if (guard.token !== undefined) {
      conditions.push('#token = :token');
      values[':token'] = N(guard.token);
    }
    try {
      const { Attributes } = await client.send(
        new UpdateItemCommand({
          TableName,
          Key: leaseItemKey(key),
          UpdateExpression: 'SET expiresAt = :exp, #ttl = :ttl',
          ConditionExpression: conditions.join(' AND '),
          ExpressionAttributeNames: { '#ttl': 'ttl', ...(guard.token !== undefined ? { '#token': 'token' } : {}) },
          ExpressionAttributeValues: values,
          ReturnValues: 'ALL_NEW',
        }),
      );
      return toLease(Attributes);
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return null;
      throw error;
    }
  }

  async function nextToken(key: string): Promise<number> {
    const { Attributes } = await client.send(
      new UpdateItemCommand({
        TableName,
        Key: fenceItemKey(key),
        UpdateExpression: 'ADD fence :one',
        ExpressionAttributeValues: { ':one': N(1) },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes!.fence!.N);
  }

  return {
    async acquire(key, holder, ttlMs) {
      const own = await extend(key, ttlMs, { holder });
      if (own) return own;
      const token = await nextToken(key);
      const now = clock.now();
      const lease: Lease = { key, holder, token, expiresAt: now + ttlMs };
      const taken = await conditional(() =>
        client.send(
          new PutItemCommand({
            TableName,
            Item: {
              ...leaseItemKey(key),
              holder: S(holder),
              token: N(token),
              expiresAt: N(lease.expiresAt),
              ttl: ttlOf(lease.expiresAt),
              shard: S(leaseTable.shard),
            },
            ConditionExpression: 'attribute_not_exists(leaseKey) OR expiresAt <= :now',
            ExpressionAttributeValues: { ':now': N(now) },
          }),
        ),
      );
      if (taken) return lease;
      // Lost the race: to another holder (null), or to a concurrent acquire of our own holder.
      return extend(key, ttlMs, { holder });
    },

    async renew(key, token, ttlMs) {
      return (await extend(key, ttlMs, { token })) !== null;
    },

    async reclaim(key, holder, token, ttlMs) {
      // The counter first: once it is at the token, no acquire can hand the token out again.
      const fenced = await conditional(() =>
        client.send(
          new UpdateItemCommand({
            TableName,
            Key: fenceItemKey(key),
            UpdateExpression: 'SET fence = :token',
            ConditionExpression: 'attribute_not_exists(fence) OR fence < :token',
            ExpressionAttributeValues: { ':token': N(token) },
          }),
        ),
      );
      if (!fenced) return false;
      const expiresAt = clock.now() + ttlMs;
      return conditional(() =>
        client.send(
          new PutItemCommand({
            TableName,
            Item: { ...leaseItemKey(key), holder: S(holder), token: N(token), expiresAt: N(expiresAt), ttl: ttlOf(expiresAt), shard: S(leaseTable.shard) },
            ConditionExpression: 'attribute_not_exists(leaseKey)',
          }),
        ),
      );
    },

    async renewHolder(holder, ttlMs) {
      const now = clock.now();
      let renewed = 0;
      let ExclusiveStartKey: Item | undefined;
      do {
        const page = await client.send(
          new QueryCommand({
            TableName,
            IndexName: leaseTable.holderIndex,
            KeyConditionExpression: 'holder = :holder',
            FilterExpression: 'expiresAt > :now',
            ExpressionAttributeValues: { ':holder': S(holder), ':now': N(now) },
            ExclusiveStartKey,
          }),
        );
        const live = (page.Items ?? []).map(toLease).filter((lease): lease is Lease => lease !== null);
        const results = await Promise.all(live.map((lease) => extend(lease.key, ttlMs, { holder, token: lease.token })));
        renewed += results.filter((lease) => lease !== null).length;
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
      return renewed;
    },

    async release(key, token) {
      return conditional(() =>
        client.send(
          new DeleteItemCommand({
            TableName,
            Key: leaseItemKey(key),
            ConditionExpression: '#token = :token',
            ExpressionAttributeNames: { '#token': 'token' },
            ExpressionAttributeValues: { ':token': N(token) },
          }),
        ),
      );
    },

    async get(key) {
      const { Item } = await client.send(new GetItemCommand({ TableName, Key: leaseItemKey(key), ConsistentRead: true }));
      return toLease(Item);
    },

    async listExpired(now, limit) {
      const { Items = [] } = await client.send(
        new QueryCommand({
          TableName,
          IndexName: leaseTable.expiryIndex,
          KeyConditionExpression: '#shard = :shard AND expiresAt <= :now',
          ExpressionAttributeNames: { '#shard': 'shard' },
          ExpressionAttributeValues: { ':shard': S(leaseTable.shard), ':now': N(now) },
          ScanIndexForward: true,
          Limit: limit,
        }),
      );
      return Items.map(toLease).filter((lease): lease is Lease => lease !== null);
    },

    // The client belongs to the caller, who may share it.
    async close() {},
  };
}
