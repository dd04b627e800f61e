import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

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
  try {
    await client.send(
      new CreateTableCommand({
        TableName: table,
        BillingMode: 'PAY_PER_REQUEST',
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
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: table });
  // Asked first: enabling TTL twice is an error.
  const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: table }));
  if (TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED' || TimeToLiveDescription?.TimeToLiveStatus === 'ENABLING') return;
  await client.send(new UpdateTimeToLiveCommand({ TableName: table, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }));
}
