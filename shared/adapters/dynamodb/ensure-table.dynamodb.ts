import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  waitUntilTableExists,
  type CreateTableCommandInput,
  type DynamoDBClient,
} from '@aws-sdk/client-dynamodb';

/** Idempotent: creates the table (on demand) as described, waits until it is active, and turns TTL on `ttl` on. */
export async function ensureTable(client: DynamoDBClient, definition: Omit<CreateTableCommandInput, 'BillingMode'> & { TableName: string }): Promise<void> {
  try {
    await client.send(new CreateTableCommand({ ...definition, BillingMode: 'PAY_PER_REQUEST' }));
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  await waitUntilTableExists({ client, maxWaitTime: 60, minDelay: 1, maxDelay: 2 }, { TableName: definition.TableName });
  // Asked first: enabling TTL twice is an error.
  const { TimeToLiveDescription } = await client.send(new DescribeTimeToLiveCommand({ TableName: definition.TableName }));
  if (TimeToLiveDescription?.TimeToLiveStatus === 'ENABLED' || TimeToLiveDescription?.TimeToLiveStatus === 'ENABLING') return;
  await client.send(new UpdateTimeToLiveCommand({ TableName: definition.TableName, TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true } }));
}
