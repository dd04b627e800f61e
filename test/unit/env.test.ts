import { describe, expect, it } from 'vitest';
import { loadEnv } from '../../shared/env.js';
import { ConfigError } from '../../shared/errors.js';
import { boot, planRole, type Role } from '../../shared/runtime/boot.js';

const servers = {
  KAFKA_BROKERS: 'kafka-1:9092, kafka-2:9092',
  DATABASE_URL: 'postgres://amas@db:5432/amas',
  REDIS_URL: 'redis://redis:6379',
  NEO4J_URL: 'bolt://neo4j:7687',
};
const plan = (role: Role, vars: Record<string, string> = {}) => planRole(role, loadEnv(vars), vars);

describe('one environment schema for every entry point', () => {
  it.each([
    ['DATABASE_URL', 'mysql://db/amas', /DATABASE_URL="mysql:\/\/db\/amas": a postgres:\/\/ or postgresql:\/\/ connection URL/],
    ['KAFKA_BROKERS', 'kafka-1', /KAFKA_BROKERS="kafka-1": a comma list of host:port/],
    ['PORT', 'eighty', /PORT="eighty"/],
    ['SQS_MAX_RECEIVE_COUNT', '0', /SQS_MAX_RECEIVE_COUNT="0"/],
    ['AMAS_FUNCTION_TRANSPORT', 'grpc', /AMAS_FUNCTION_TRANSPORT="grpc"/],
    ['LLM_BASE_URL', 'ftp://model', /LLM_BASE_URL="ftp:\/\/model"/],
    ['ORCHESTRATION_MAX_SUBTASKS', 'many', /ORCHESTRATION_MAX_SUBTASKS="many"/],
  ])('a bad %s is a ConfigError naming it', (name, value, message) => {
    expect(() => loadEnv({ LLM_MODEL: 'm', [name]: value })).toThrow(ConfigError);
    expect(() => loadEnv({ LLM_MODEL: 'm', [name]: value })).toThrow(message);
  });

  it('keeps every default; unset servers are embedded stand-ins, the model is off', () => {
    const { infra, llm, config } = loadEnv({});
    expect(infra).toMatchObject({
      PORT: 8000,
      HOST: '127.0.0.1',
      AMAS_DATA_DIR: './.amas-data',
      AMAS_FUNCTION_TRANSPORT: 'kafka',
      SQS_QUEUE_PREFIX: '',
      SQS_MAX_RECEIVE_COUNT: 5,
      LEASE_TABLE: 'amas-leases',
      AGENT_TABLE: 'amas-agents',
      NEO4J_NAMESPACE: 'default',
      KAFKA_PARTITIONS: 6,
    });
    expect(infra.KAFKA_BROKERS).toBeUndefined();
    expect(infra.DATABASE_URL).toBeUndefined();
    expect(llm).toBeNull();
    expect(config.ORCHESTRATION_DEMO_AGENTS).toBe(true);
    expect(loadEnv({ KAFKA_BROKERS: '[::1]:9092,127.0.0.1:9093', DATABASE_URL: 'postgresql://u:p@h/db?sslmode=require' }).infra.KAFKA_BROKERS).toBe(
      '[::1]:9092,127.0.0.1:9093',
    );
  });
});

describe('boot(role): the adapter choices and runtime options each entry point had', () => {
  it('embedded: every function, demo agents, messaging, resume on the embedded store; API on PORT', () => {
    expect(plan('embedded')).toMatchObject({
      name: 'amas-orchestration',
      adapters: 'servers',
      port: 8000,
      runtime: { functions: ['decompose', 'assign', 'dispatch', 'complete'], demoAgents: true, messaging: true, processMetrics: true, resume: true },
    });
    expect(plan('embedded', { ...servers, AMAS_MESSAGE_SECRET: 's'.repeat(16) }).runtime).toMatchObject({
      resume: false,
      messaging: { secret: 's'.repeat(16) },
    });
    expect(() => plan('embedded', { HOST: '0.0.0.0' })).toThrow(/AMAS_AUTH=none/);
  });

  it('api: no function consumers, nothing to resume', () => {
    expect(plan('api', servers)).toMatchObject({ name: 'amas-api', adapters: 'servers', runtime: { functions: [], resume: false, processMetrics: true } });
  });

  it('function:<name>: its own consumer on Kafka (none on http), no recovery, no demo agents, port 8080 unless PORT', () => {
    expect(plan('function:assign', servers)).toMatchObject({
      name: 'amas-assign',
      adapters: 'servers',
      port: 8080,
      runtime: { functions: ['assign'], demoAgents: false, recovery: false, processMetrics: true },
    });
    expect(plan('function:assign', { ...servers, AMAS_FUNCTION_TRANSPORT: 'http', PORT: '9000' })).toMatchObject({ port: 9000, runtime: { functions: [] } });
    expect(() => plan('function:assign', { KAFKA_BROKERS: servers.KAFKA_BROKERS })).toThrow(/DATABASE_URL, REDIS_URL, NEO4J_URL must be set/);
    expect(() => plan('function:nope' as Role, servers)).toThrow(/unknown function "nope"/);
  });

  it('agents: demo agents only, never the embedded data directory, port 8090 unless PORT', () => {
    const agents = plan('agents', { AMAS_DEMO_AGENT_INSTANCE: 'a' });
    expect(agents).toMatchObject({
      name: 'amas-agents',
      adapters: 'servers',
      port: 8090,
      runtime: { functions: [], demoAgents: true, demoInstance: 'a', recovery: false, processMetrics: false },
    });
    expect(agents.env.infra.AMAS_DATA_DIR).toBeNull();
  });

  it('lambda: SQS, DynamoDB and PostgreSQL; no consumers, no recovery loop (SQS and the schedule drive them)', async () => {
    expect(plan('lambda', { DATABASE_URL: servers.DATABASE_URL, AWS_LAMBDA_FUNCTION_NAME: 'amas-dev-assign' })).toMatchObject({
      name: 'amas-lambda',
      tracingName: 'amas-dev-assign',
      adapters: 'lambda',
      runtime: { functions: [], demoAgents: false, recovery: false },
    });
    await expect(boot('lambda', { ORCHESTRATION_ENABLE_TRACING: 'false' })).rejects.toThrow(/DATABASE_URL is required on Lambda/);
  });

  it('boots the embedded stand-ins for an empty environment', async () => {
    const vars = { AMAS_DATA_DIR: 'memory', ORCHESTRATION_DEMO_AGENTS: 'false', ORCHESTRATION_ENABLE_TRACING: 'false', ORCHESTRATION_LOG_LEVEL: 'ERROR' };
    const embedded = await boot('embedded', vars);
    try {
      expect(embedded.adapters.labels).toEqual({
        bus: 'in-process event log',
        store: 'PGlite (in-process PostgreSQL) in memory: lost on restart (set AMAS_DATA_DIR to keep it)',
        leases: 'in-memory leases',
        directory: 'in-memory agent directory',
        planner: 'deterministic (LLM_BASE_URL unset)',
      });
      expect(embedded.runtime.recovery).not.toBeNull();
      expect(embedded.adapters.apiKeys).not.toBeNull();
    } finally {
      for (const step of embedded.stoppables) await step.stop();
    }
  }, 30_000);
});
