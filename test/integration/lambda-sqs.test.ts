import { randomUUID } from 'node:crypto';
import { DeleteTableCommand } from '@aws-sdk/client-dynamodb';
import { DeleteMessageCommand, DeleteQueueCommand, GetQueueUrlCommand, ListQueuesCommand, ReceiveMessageCommand, type Message } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDynamoClient } from '../../shared/adapters/dynamodb/dynamodb-client.js';
import { createSqsClient } from '../../shared/adapters/sqs/sqs-client.js';
import { queueNames } from '../../shared/adapters/sqs/sqs-names.js';
import { observerGroup } from '../../shared/adapters/sqs/sqs-topology.js';
import { createPgClient } from '../../shared/adapters/sql/sql-client.pg.js';
import { deadLetterTopic, functionSubscriptions } from '../../shared/events/index.js';
import type { SqsEvent } from '../../shared/bindings/lambda-sqs.js';
import { createLambdaHandlers, type HttpApiEvent } from '../../shared/runtime/main-lambda.js';

const databaseUrl = process.env.DATABASE_URL ?? 'postgres://root@127.0.0.1:5432/test';
const sqsEndpoint = process.env.SQS_ENDPOINT ?? 'http://127.0.0.1:9324';
const dynamoEndpoint = process.env.DYNAMODB_ENDPOINT ?? 'http://127.0.0.1:8001';
const run = randomUUID().replaceAll('-', '').slice(0, 10);
const schema = `amas_lambda_${run}`;
const queuePrefix = `lambda${run}-`;
const leaseTable = `amas-leases-${run}`;
const agentTable = `amas-agents-${run}`;
const sqs = createSqsClient(sqsEndpoint);
const admin = createPgClient(databaseUrl, { maxConnections: 1 });

const lambdaEnv = {
  DATABASE_URL: databaseUrl,
  DATABASE_SCHEMA: schema,
  SQS_ENDPOINT: sqsEndpoint,
  SQS_QUEUE_PREFIX: queuePrefix,
  DYNAMODB_ENDPOINT: dynamoEndpoint,
  LEASE_TABLE: leaseTable,
  AGENT_TABLE: agentTable,
  ORCHESTRATION_LOG_LEVEL: 'ERROR',
  ORCHESTRATION_PLAN_APPROVAL: 'off',
};
let handlers: ReturnType<typeof createLambdaHandlers>;

beforeAll(async () => {
  await admin.query(`CREATE SCHEMA ${schema}`);
  handlers = createLambdaHandlers(lambdaEnv);
});
afterAll(async () => {
  await handlers.close();
  const { QueueUrls = [] } = await sqs.send(new ListQueuesCommand({ QueueNamePrefix: queuePrefix }));
  await Promise.all(QueueUrls.map((QueueUrl) => sqs.send(new DeleteQueueCommand({ QueueUrl }))));
  sqs.destroy();
  const dynamo = createDynamoClient(dynamoEndpoint);
  for (const TableName of [leaseTable, agentTable]) await dynamo.send(new DeleteTableCommand({ TableName })).catch(() => undefined);
  dynamo.destroy();
  await admin.query(`DROP SCHEMA ${schema} CASCADE`);
  await admin.close();
});

/** An API Gateway HTTP API (payload format 2.0) event, as API Gateway sends it. */
function httpEvent(method: string, path: string, body?: unknown): HttpApiEvent {
  const [rawPath, rawQueryString = ''] = path.split('?') as [string, string?];
  const event = {
    version: '2.0',
    routeKey: '$default',
    rawPath,
    rawQueryString,
    headers: {
      accept: '*/*',
      host: 'abc.execute-api.eu-west-1.amazonaws.com',
      ...(body ? { 'content-type': 'application/json', 'content-length': '99' } : {}),
    },
    requestContext: {
      http: { method, path: rawPath, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 'test' },
      requestId: randomUUID(),
      stage: '$default',
    },
    ...(body ? { body: Buffer.from(JSON.stringify(body)).toString('base64'), isBase64Encoded: true } : { isBase64Encoded: false }),
  };
  return event;
}

/** A record as the SQS event source mapping hands it to the function. */
function sqsRecord(body: string, from?: Message): SqsEvent['Records'][number] & Record<string, unknown> {
  return {
    messageId: from?.MessageId ?? randomUUID(),
    receiptHandle: from?.ReceiptHandle ?? 'handle',
    body,
    attributes: { ApproximateReceiveCount: '1', SentTimestamp: String(Date.now()), MessageGroupId: 'g', ...from?.Attributes },
    messageAttributes: {},
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:000000000000:queue.fifo',
    awsRegion: 'us-east-1',
  };
}

async function receiveAll(topic: string, groupId: string): Promise<Message[]> {
  const { QueueUrl: url } = await sqs.send(new GetQueueUrlCommand({ QueueName: queueNames(queuePrefix).groupQueue(topic, groupId) }));
  const got: Message[] = [];
  for (;;) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, MessageSystemAttributeNames: ['All'] }),
    );
    if (Messages.length === 0) return got;
    for (const m of Messages) await sqs.send(new DeleteMessageCommand({ QueueUrl: url, ReceiptHandle: m.ReceiptHandle }));
    got.push(...Messages);
  }
}

describe('Lambda handlers over SQS, DynamoDB and PostgreSQL', () => {
  let workflowId: string;

  it('api: POST /v1/tasks answers 202 and GET /v1/workflows/:id shows the workflow', async () => {
    const created = await handlers.api(httpEvent('POST', '/v1/tasks', { description: 'Research AI market trends and create presentation' }));
    expect(created).toMatchObject({ statusCode: 202, isBase64Encoded: false });
    expect(created.headers['content-type']).toMatch(/^application\/json/);
    workflowId = (JSON.parse(created.body) as { workflowId: string }).workflowId;
    const read = await handlers.api(httpEvent('GET', `/v1/workflows/${workflowId}`));
    expect(read.statusCode).toBe(200);
    expect(JSON.parse(read.body)).toMatchObject({ workflowId, status: 'pending', plan: null });
    const listed = await handlers.api(httpEvent('GET', '/v1/workflows?limit=1'));
    expect(JSON.parse(listed.body)).toMatchObject({ limit: 1, workflows: [{ workflowId }] });
    expect((await handlers.api(httpEvent('GET', '/v1/workflows/nope'))).statusCode).toBe(404);
  });

  it('decompose: stores the plan for a valid record, dead-letters the bad ones with their reason, and ignores a redelivery', async () => {
    const { topic, groupId } = functionSubscriptions.decompose;
    // The task.submitted that the API's outbox published to the decompose queue, as SQS holds it.
    const [submitted] = await receiveAll(topic, groupId);
    expect(JSON.parse(submitted!.Body!)).toMatchObject({ type: 'task.submitted', data: { workflowId } });
    const invalid = JSON.parse(submitted!.Body!) as { id: string; data: Record<string, unknown> };
    invalid.id = randomUUID();
    delete invalid.data.workflowId;
    const garbage = sqsRecord('{not json');
    const schemaInvalid = sqsRecord(JSON.stringify(invalid));
    const valid = sqsRecord(submitted!.Body!, submitted);

    const result = await handlers.decompose({ Records: [garbage, valid, schemaInvalid] });
    // Neither bad record can ever be processed: each is on amas.tasks.dlq with its reason, and none
    // is handed back to SQS (whose redrive policy would move it, reason lost, after maxReceiveCount tries).
    expect(result.batchItemFailures).toEqual([]);
    const letters = (await receiveAll(deadLetterTopic(topic), observerGroup)).map(
      (m) => JSON.parse(m.Body!) as { type: string; data: { messageId: string; code: string; reason: string; consumer: string } },
    );
    expect(letters.map((l) => [l.type, l.data.messageId, l.data.code, l.data.consumer]).sort()).toEqual(
      [
        ['amas.deadletter', garbage.messageId, 'INVALID_EVENT', 'decompose'],
        ['amas.deadletter', schemaInvalid.messageId, 'INVALID_EVENT', 'decompose'],
      ].sort(),
    );
    expect(letters.find((l) => l.data.messageId === schemaInvalid.messageId)!.data.reason).toMatch(/data\.workflowId/);
    const view = JSON.parse((await handlers.api(httpEvent('GET', `/v1/workflows/${workflowId}`))).body) as {
      status: string;
      plan: unknown;
      updatedAt: string;
      progress: { total: number; ready: number };
    };
    expect(view.status).toBe('running');
    expect(view.plan).not.toBeNull();
    expect(view.progress.total).toBeGreaterThan(0);
    // The ready roots went out through the outbox to the assign function's queue.
    const ready = await receiveAll(functionSubscriptions.assign.topic, functionSubscriptions.assign.groupId);
    expect(ready.map((m) => (JSON.parse(m.Body!) as { type: string }).type)).toEqual(Array(view.progress.ready).fill('subtask.ready'));

    const redelivered = { ...valid, attributes: { ...(valid.attributes as object), ApproximateReceiveCount: '2' } };
    expect(await handlers.decompose({ Records: [redelivered] })).toEqual({ batchItemFailures: [] });
    const again = JSON.parse((await handlers.api(httpEvent('GET', `/v1/workflows/${workflowId}`))).body) as typeof view;
    expect(again).toEqual(view);
    expect(await receiveAll(functionSubscriptions.assign.topic, functionSubscriptions.assign.groupId)).toEqual([]);
  });

  it('every container sees the same agents, loads and slots (the directory is in DynamoDB, not in memory)', async () => {
    const other = createLambdaHandlers(lambdaEnv); // a second container, of another function
    try {
      const [mine, theirs] = [(await handlers.runtime()).ports.directory, (await other.runtime()).ports.directory];
      await mine.register({ id: `agent-${run}`, layer: 'SPECIALIST', specialties: ['data_analyst'], capacity: 1, demo: false }, 1_000);
      expect(await theirs.get(`agent-${run}`)).toMatchObject({ status: 'AVAILABLE', load: 0, registeredAt: 1_000 });
      expect(await theirs.reserve(`agent-${run}`, 'st-1')).toBe(true);
      expect(await mine.reserve(`agent-${run}`, 'st-2')).toBe(false);
      expect(await mine.reserve(`agent-${run}`, 'st-1')).toBe(true);
      await mine.release(`agent-${run}`, 'st-1', { success: true, quality: 0.9, durationMs: 5 });
      expect(await theirs.get(`agent-${run}`)).toMatchObject({ load: 0, completed: 1 });
    } finally {
      await other.close();
    }
  });

  it('names the function queues after topic and group', () => {
    expect(queueNames(queuePrefix).groupQueue('amas.tasks', 'amas-decompose')).toBe(`${queuePrefix}amas_tasks--amas-decompose.fifo`);
  });
});
