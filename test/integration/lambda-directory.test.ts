import { randomUUID } from 'node:crypto';
import { DeleteTableCommand, DescribeTableCommand, ResourceNotFoundException } from '@aws-sdk/client-dynamodb';
import { afterAll, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../shared/adapters/dynamodb/dynamodb-client.js';
import type { Neo4jAgentDirectory } from '../../shared/adapters/neo4j/agent-directory.neo4j.js';
import { loadConfig } from '../../shared/config.js';
import { lambdaDirectory } from '../../shared/runtime/lambda-directory.js';

const dynamo = createDynamoClient(process.env.DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:8001');
const config = loadConfig({});
const table = `amas-agents-lambda-${randomUUID().slice(0, 8)}`;
const tableExists = () =>
  dynamo.send(new DescribeTableCommand({ TableName: table })).then(
    () => true,
    (error: unknown) => (error instanceof ResourceNotFoundException ? false : Promise.reject(error)),
  );
afterAll(async () => {
  await dynamo.send(new DeleteTableCommand({ TableName: table })).catch(() => undefined);
  dynamo.destroy();
});

const registration = { id: 'a1', layer: 'SPECIALIST' as const, specialties: ['data_analyst' as const], capacity: 2, demo: false };

describe("the Lambda runtime's agent directory", () => {
  it('with NEO4J_URL is the graph, shared by two containers, and creates no table', async () => {
    const settings = {
      NEO4J_URL: process.env.NEO4J_URL ?? 'bolt://127.0.0.1:7687',
      NEO4J_NAMESPACE: `amas-lambda-${randomUUID()}`,
      AGENT_TABLE: table,
      DYNAMODB_ENDPOINT: 'set',
    };
    const [one, two] = [await lambdaDirectory(settings, config, dynamo), await lambdaDirectory(settings, config, dynamo)];
    try {
      await one.directory.register(registration, 1);
      expect(await two.directory.reserve('a1', 'w1')).toBe(true);
      expect(await one.directory.get('a1')).toMatchObject({ load: 1, status: 'BUSY' });
      expect((await one.healthChecks[0]!.health()).dependency).toBe('neo4j');
      expect(await tableExists()).toBe(false);
    } finally {
      await (one.directory as Neo4jAgentDirectory).clear();
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('without it is the DynamoDB table AGENT_TABLE, created where an endpoint is set', async () => {
    const settings = { NEO4J_NAMESPACE: 'default', AGENT_TABLE: table, DYNAMODB_ENDPOINT: 'http://127.0.0.1:8001' };
    const [one, two] = [await lambdaDirectory(settings, config, dynamo), await lambdaDirectory(settings, config, dynamo)];
    await one.directory.register(registration, 1);
    expect(await two.directory.reserve('a1', 'w1')).toBe(true);
    expect(await one.directory.get('a1')).toMatchObject({ load: 1, status: 'BUSY' });
    expect(await tableExists()).toBe(true);
  });
});
