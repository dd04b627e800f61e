import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { agentTable } from '../../shared/adapters/dynamodb/agent-table.dynamodb.js';
import { leaseTable } from '../../shared/adapters/dynamodb/lease-table.dynamodb.js';
import { queueNames } from '../../shared/adapters/sqs/sqs-names.js';
import { sqsQueueGroups } from '../../shared/adapters/sqs/sqs-topology.js';
import { functionSubscriptions, type ConsumerName } from '../../shared/events/topics.js';
import { tracingProblems } from './helpers/tracing-env.js';

/* eslint-disable @typescript-eslint/no-explicit-any -- serverless.yml is an untyped YAML tree */
type Doc = Record<string, any>;

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const sls = parse(readFileSync(join(root, 'serverless.yml'), 'utf8')) as Doc;
const resources = sls.resources.Resources as Record<string, Doc>;
const names = Object.keys(functionSubscriptions) as ConsumerName[];
const handlerModule = 'shared/runtime/main-lambda';
const getAttArn = (ref: Doc): string => {
  const [logicalId, attribute] = ref['Fn::GetAtt'] as [string, string];
  expect(attribute).toBe('Arn');
  return logicalId;
};

describe('serverless.yml', () => {
  it('targets AWS Lambda on Node 20', () => {
    expect(sls.provider).toMatchObject({ name: 'aws', runtime: 'nodejs20.x' });
    expect(Object.keys(sls.functions).sort()).toEqual(['api', 'recover', ...names].sort());
  });

  it('points every handler at an export of shared/runtime/main-lambda.ts', () => {
    for (const [name, fn] of Object.entries(sls.functions as Record<string, Doc>)) expect(fn.handler).toBe(`${handlerModule}.${name}`);
    const source = join(root, `${handlerModule}.ts`);
    // main-lambda.ts is written separately; once it exists its exports must match the handlers.
    if (!existsSync(source)) return;
    const text = readFileSync(source, 'utf8');
    for (const name of Object.keys(sls.functions)) {
      const exported = [
        `export\\s+(const|let|async\\s+function|function)\\s+${name}\\b`,
        `export\\s+(const|let)\\s*{[^}]*\\b${name}\\b[^}]*}\\s*=`,
        `export\\s*{[^}]*\\b${name}\\b[^}]*}`,
      ].some((pattern) => new RegExp(pattern).test(text));
      expect(exported, `${handlerModule}.ts exports ${name}`).toBe(true);
    }
  });

  it.each(names)('%s reads its own FIFO queue with partial batch failures, and that queue has a FIFO DLQ', (name) => {
    const events = sls.functions[name].events as Doc[];
    expect(events).toHaveLength(1);
    const sqs = events[0]!.sqs as Doc;
    expect(sqs.functionResponseType).toBe('ReportBatchItemFailures');
    expect(sqs.batchSize).toBeDefined();
    const queue = resources[getAttArn(sqs.arn)]!;
    expect(queue.Type).toBe('AWS::SQS::Queue');
    expect(queue.Properties).toMatchObject({ FifoQueue: true, ContentBasedDeduplication: false });
    // The names the SQS event bus derives (shared/adapters/sqs/sqs-names.ts) under SQS_QUEUE_PREFIX.
    const { topic, groupId } = functionSubscriptions[name];
    const prefix = String(sls.provider.environment.SQS_QUEUE_PREFIX);
    expect(queue.Properties.QueueName).toBe(prefix + queueNames('').groupQueue(topic, groupId));
    const dlq = resources[getAttArn(queue.Properties.RedrivePolicy.deadLetterTargetArn)]!;
    expect(dlq.Type).toBe('AWS::SQS::Queue');
    expect(dlq.Properties.FifoQueue).toBe(true);
    expect(dlq.Properties.QueueName).toBe(prefix + queueNames('').deadLetterQueue(topic, groupId));
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBeDefined();
  });

  it('has a queue for every topic the bus publishes to (a publish without one fails), a DLQ exactly for the consumed ones', () => {
    const queues = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SQS::Queue');
    const prefix = String(sls.provider.environment.SQS_QUEUE_PREFIX);
    const declared = queues.map(([, r]) => String(r.Properties.QueueName));
    for (const { topic, groupId } of sqsQueueGroups) expect(declared, `${topic} as ${groupId}`).toContain(prefix + queueNames('').groupQueue(topic, groupId));
    const withRedrive = queues.filter(([, r]) => r.Properties.RedrivePolicy);
    expect(withRedrive).toHaveLength(names.length);
    expect(queues).toHaveLength(names.length * 2 + sqsQueueGroups.filter((g) => g.consumer === null).length);
    // The relay publishes onto every queue: the role may send to each of them.
    const sendable = (sls.provider.iam.role.statements as Doc[]).find((st) => (st.Action as string[]).includes('sqs:SendMessage'))!.Resource as Doc[];
    for (const [id, r] of queues) if (!String(r.Properties.QueueName).endsWith('-dlq.fifo')) expect(sendable.map(getAttArn), id).toContain(id);
  });

  it('runs the recovery loop on a schedule', () => {
    expect(sls.functions.recover.handler).toBe(`${handlerModule}.recover`);
    expect(sls.functions.recover.events).toEqual([{ schedule: expect.stringMatching(/^rate\(1 minutes?\)$/) }]);
  });

  it('runs in the VPC given by parameters', () => {
    expect(sls.provider.vpc.securityGroupIds).toMatch(/^\$\{(ssm|param):/);
    expect(sls.provider.vpc.subnetIds).toMatch(/^\$\{(ssm|param):/);
  });

  it('takes AMAS_MESSAGE_SECRET from SSM, one value for every container', () => {
    expect(sls.provider.environment.AMAS_MESSAGE_SECRET).toMatch(/^\$\{ssm:/);
  });

  it('keeps leases in the table shape of the DynamoDB lease adapter, on demand, with TTL on ttl', () => {
    const table = resources.LeaseTable!;
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: leaseTable.key, KeyType: 'HASH' },
        { AttributeName: leaseTable.kind, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    expect(table.Properties.AttributeDefinitions).toContainEqual({ AttributeName: 'leaseKey', AttributeType: 'S' });
    expect((table.Properties.GlobalSecondaryIndexes as Doc[]).map((i) => i.IndexName).sort()).toEqual([leaseTable.expiryIndex, leaseTable.holderIndex].sort());
  });

  it('keeps the agent directory in one table for every container, in the shape of the DynamoDB agent adapter', () => {
    const table = resources.AgentTable!;
    expect(table.Type).toBe('AWS::DynamoDB::Table');
    expect(table.Properties).toMatchObject({
      TableName: '${self:custom.agentTable}',
      BillingMode: 'PAY_PER_REQUEST',
      KeySchema: [
        { AttributeName: agentTable.partitionKey, KeyType: 'HASH' },
        { AttributeName: agentTable.sortKey, KeyType: 'RANGE' },
      ],
      TimeToLiveSpecification: { AttributeName: 'ttl', Enabled: true },
    });
    expect(table.Properties.AttributeDefinitions).toEqual([
      { AttributeName: 'pk', AttributeType: 'S' },
      { AttributeName: 'sk', AttributeType: 'S' },
    ]);
    expect(sls.provider.environment.AGENT_TABLE).toBe('${self:custom.agentTable}');
    // reserve/release/recordWork are TransactWriteItems: IAM checks each item's own action.
    const granted = (sls.provider.iam.role.statements as Doc[])
      .filter((st) => (st.Resource as Doc[]).some?.((r) => r['Fn::GetAtt']?.[0] === 'AgentTable'))
      .flatMap((st) => st.Action as string[]);
    expect(granted).toEqual(
      expect.arrayContaining([
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:ConditionCheckItem',
        'dynamodb:Query',
      ]),
    );
  });

  it('every function exports spans under its own amas-<name>, sampled by ORCHESTRATION_TRACE_SAMPLE_RATE', () => {
    const serviceNames = Object.entries(sls.functions as Record<string, Doc>).map(([name, fn]) => {
      const env = { ...sls.provider.environment, ...fn.environment } as Record<string, string>;
      expect(tracingProblems(env), name).toEqual([]);
      expect(env.OTEL_SERVICE_NAME, name).toBe(`amas-${name}`);
      return env.OTEL_SERVICE_NAME;
    });
    expect(new Set(serviceNames).size).toBe(Object.keys(sls.functions).length);
    const { OTEL_TRACES_EXPORTER: _exporter, ...withoutExporter } = sls.provider.environment as Record<string, string>;
    expect(tracingProblems({ ...withoutExporter, OTEL_SERVICE_NAME: 'amas-api' })).toEqual([expect.stringMatching(/^no trace exporter/)]);
  });

  it('routes the API, including health and readiness, to the api function', () => {
    const routes = (sls.functions.api.events as Doc[]).map((e) => `${e.httpApi.method} ${e.httpApi.path}`);
    for (const route of ['POST /v1/tasks', 'GET /v1/workflows', 'GET /v1/workflows/{id}', 'GET /health/orchestration', 'GET /ready/orchestration'])
      expect(routes).toContain(route);
    for (const command of ['cancel', 'pause', 'resume', 'approve', 'reject']) expect(routes).toContain(`POST /v1/workflows/{id}/${command}`);
    expect(routes).toEqual(expect.arrayContaining(['GET /v1/dead-letters', 'POST /v1/dead-letters/{id}/redrive']));
    // Server-Sent Events cannot stream through API Gateway (it buffers the Lambda's response).
    expect(routes.filter((r) => r.endsWith('/events'))).toEqual([]);
  });

  it('grants only queue and lease-table actions on named resources (ListQueues, which has none, aside)', () => {
    const statements = sls.provider.iam.role.statements as Doc[];
    for (const s of statements) {
      expect(s.Effect).toBe('Allow');
      for (const action of s.Action as string[]) expect(action).toMatch(/^(sqs|dynamodb):[A-Za-z]+$/);
      if (s.Resource === '*') expect(s.Action).toEqual(['sqs:ListQueues']);
      else
        for (const resource of s.Resource as Doc[])
          expect(resources[getAttArn(resource['Fn::Join']?.[1]?.[0] ?? resource)], JSON.stringify(resource)).toBeDefined();
    }
  });

  it('the public HTTP API authenticates with OIDC, its settings and the admin key from SSM (never AMAS_AUTH=none)', () => {
    const env = { ...sls.provider.environment, ...sls.functions.api.environment } as Record<string, string>;
    expect(env.AMAS_AUTH).toBe('oidc');
    for (const name of ['OIDC_ISSUER_URL', 'OIDC_AUDIENCE', 'AMAS_ADMIN_KEY']) expect(env[name], name).toMatch(/^\$\{ssm:/);
  });

  it('names the environment the Lambda runtime reads', () => {
    expect(sls.provider.environment).toMatchObject({ SQS_QUEUE_PREFIX: '${self:custom.prefix}', LEASE_TABLE: '${self:custom.leaseTable}' });
    expect(sls.provider.environment.DATABASE_URL).toBeDefined();
    expect(resources.LeaseTable!.Properties.TableName).toBe('${self:custom.leaseTable}');
  });
});
