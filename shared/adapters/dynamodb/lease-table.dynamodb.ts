import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { ensureTable } from './ensure-table.dynamodb.js';

/**
 * The lease table. Two items per lease key, one partition: `kind = "fence"` holds the fencing
 * counter (never deleted, so tokens survive releases) and `kind = "lease"` the lease itself.
 * Only lease items carry `holder` and `shard`, so both indexes are sparse:
 * - holder-index (holder): renewHolder's Query;
 * - expiry-index (shard, expiresAt): listExpired's Query, oldest first. `shard` is one constant,
 *   so that index is one partition: fine for thousands of leases, a write-throughput ceiling
 *   (~1,000 writes/s per partition on AWS) well beyond that.
 * `ttl` (epoch seconds, an hour past expiry) lets DynamoDB TTL drop leases nobody released.
 */
export const leaseTable = {
  key: 'leaseKey',
  kind: 'kind',
  holderIndex: 'holder-index',
  expiryIndex: 'expiry-index',
  shard: 'lease',
} as const;

/** Idempotent: creates the table (on-demand) with its indexes and TTL, and waits until active. */
export async function ensureLeaseTable(client: DynamoDBClient, table: string): Promise<void> {
  await ensureTable(client, {
    TableName: table,
    AttributeDefinitions: [
      { AttributeName: 'leaseKey', AttributeType: 'S' },
      { AttributeName: 'kind', AttributeType: 'S' },
      { AttributeName: 'holder', AttributeType: 'S' },
      { AttributeName: 'shard', AttributeType: 'S' },
      { AttributeName: 'expiresAt', AttributeType: 'N' },
    ],
    KeySchema: [
      { AttributeName: 'leaseKey', KeyType: 'HASH' },
      { AttributeName: 'kind', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: [
      { IndexName: leaseTable.holderIndex, KeySchema: [{ AttributeName: 'holder', KeyType: 'HASH' }], Projection: { ProjectionType: 'ALL' } },
      {
        IndexName: leaseTable.expiryIndex,
        KeySchema: [
          { AttributeName: 'shard', KeyType: 'HASH' },
          { AttributeName: 'expiresAt', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ],
  });
}
