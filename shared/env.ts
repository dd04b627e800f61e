import { z } from 'zod';
import { llmSettingsFromEnv, type LlmSettings } from './adapters/llm/llm-settings.js';
import { loadConfig, type Config } from './config.js';
import { ConfigError } from './errors.js';

/**
 * Every infrastructure variable of every entry point (embedded, API, function, agents, Lambda), in
 * one zod object: where the real servers are (each unset one falls back to its embedded stand-in),
 * how the API listens and authenticates, and the AWS resources of the Lambda role. Parsed once by
 * `loadEnv`; a bad value stops start-up with a message naming the variable.
 */
export const infraSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8000),
  /** host:port[,host:port…] of the Kafka cluster. */
  KAFKA_BROKERS: z
    .string()
    .regex(
      /^\s*(?:\[[^\]\s]+\]|[^\s,:[\]]+):\d{1,5}\s*(?:,\s*(?:\[[^\]\s]+\]|[^\s,:[\]]+):\d{1,5}\s*)*$/,
      'a comma list of host:port (e.g. kafka-1:9092,kafka-2:9092)',
    )
    .optional(),
  DATABASE_URL: z
    .string()
    .regex(/^postgres(?:ql)?:\/\/\S+$/, 'a postgres:// or postgresql:// connection URL')
    .optional(),
  /**
   * Where the embedded PGlite keeps its files, so `npm start` keeps workflows across restarts;
   * `memory` keeps nothing. Ignored when DATABASE_URL is set.
   */
  AMAS_DATA_DIR: z
    .string()
    .trim()
    .min(1)
    .default('./.amas-data')
    .transform((dir) => (dir.toLowerCase() === 'memory' ? null : dir)),
  /**
   * A tarball of an initialised, empty PGlite cluster (writePgliteTemplate) that a new PGlite
   * cluster (in memory, or a data directory without one) starts from instead of running initdb:
   * about 1 s of CPU instead of 3–4. The test runs set it (test/pglite-template.setup.ts); read by
   * the PGlite adapter itself, listed here to be checked.
   */
  AMAS_PGLITE_TEMPLATE: z.string().trim().min(1).optional(),
  /**
   * Group commit on PostgreSQL: a process's concurrent snapshot reads and commits share statements
   * and transactions (bench:kafka, record at a time: 3.5 ms of machine CPU per event off, 0.9–1.9 ms
   * on with 16 keys). On by default since the re-dispatch bound became 10 s (issue 16): the chaos
   * suite re-dispatches lost work in 7.2–7.6 s with it and 16 keys (it was off for a 5 s bound).
   */
  DATABASE_GROUP_COMMIT: z
    .enum(['true', 'false'])
    .default('true')
    .transform((v) => v === 'true'),
  REDIS_URL: z.string().min(1).optional(),
  NEO4J_URL: z.string().min(1).optional(),
  /** Derives every agent's message-signing key; processes that exchange messages must share it. */
  AMAS_MESSAGE_SECRET: z.string().min(16, 'AMAS_MESSAGE_SECRET needs at least 16 characters').optional(),
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1_000).default(6),
  /** Keeps environments that share one cluster apart: every topic and consumer group gets the prefix. */
  KAFKA_TOPIC_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dot, underscore and dash only')
    .default(''),
  /**
   * Workflows (record keys) one consumer works on at once within a partition, each in order. More
   * keys at once means larger group commits to PostgreSQL and more events/s (bench:kafka: 31 → 46–134
   * workflows/s from 4 to 16 with group commit), but while agents are saturated more new work is in
   * flight to race a re-run for a freed slot: the chaos suite's re-dispatch takes about 1 s longer
   * (7.2–7.6 s against 6–6.8 s at 4), inside its 10 s bound.
   */
  KAFKA_KEYS_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(16),
  /**
   * Records of a partition a function consumer handles as one batch: every key at once, their
   * commits in one amas_commit_set (with DATABASE_GROUP_COMMIT) and their events in one produce
   * request, then the offsets. 1 (default) is record-at-a-time with KAFKA_KEYS_CONCURRENCY keys at
   * once. Batches of 64 cost about a tenth less machine CPU per event (bench/results/issue-16-batches.md),
   * but with them the chaos suite once left a subtask in progress for good after its fault sequence.
   * A hole that could explain it is closed since (work whose lease Redis lost: docs/guarantees.md,
   * defect 9), but that it was the cause is not confirmed: not the default until it is.
   */
  KAFKA_BATCH_MAX_RECORDS: z.coerce.number().int().min(1).max(1_000).default(1),
  /** With batching on, how long the broker (or the in-process log) waits to fill a batch before handing over a smaller one. */
  KAFKA_BATCH_LINGER_MS: z.coerce.number().int().min(0).max(1_000).default(0),
  /**
   * How often a function consumer commits the offsets it has handled; 0 commits after every fetched
   * batch (kafkajs's way: one OffsetCommit round trip per batch, awaited before the partition's next
   * fetch). A crash redelivers at most this long of handled records, absorbed by event id.
   */
  KAFKA_OFFSET_COMMIT_INTERVAL_MS: z.coerce.number().int().min(0).max(60_000).default(200),
  /** How soon a killed consumer's partitions move to a live one (the broker's minimum is 6000). */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(10_000),
  /**
   * The Kafka client under the EventBus: kafkajs, or @platformatic/kafka (pure JS; one partition at a
   * time in order per consumer, no KAFKA_BATCH_* / KAFKA_KEYS_CONCURRENCY; bench/BYTES.md compares them).
   */
  KAFKA_CLIENT: z.enum(['kafkajs', 'platformatic']).default('kafkajs'),
  /** Names one demo-agents process among several: its agents are demo-<instance>-…, its inbox group its own. */
  AMAS_DEMO_AGENT_INSTANCE: z
    .string()
    .regex(/^[a-z0-9-]*$/, 'lower-case letters, digits and dashes only')
    .default(''),
  /** Keeps environments that share one Neo4j database apart. */
  NEO4J_NAMESPACE: z.string().min(1).default('default'),
  /** Where the API listens; `none` authentication is refused unless this is a loopback address. */
  HOST: z.string().trim().min(1).default('127.0.0.1'),
  /** How API callers prove who they are (README, Security): none (loopback only), oidc bearer JWTs, or API keys. */
  AMAS_AUTH: z.enum(['none', 'oidc', 'keys']).default('none'),
  /** An admin credential accepted in `oidc` and `keys` mode, to create the first keys (a secret reference in manifests). */
  AMAS_ADMIN_KEY: z.string().min(24, 'AMAS_ADMIN_KEY needs at least 24 characters').optional(),
  OIDC_ISSUER_URL: z.url({ protocol: /^https?$/ }).optional(),
  OIDC_AUDIENCE: z.string().min(1).optional(),
  /** Asymmetric algorithms only: with a public JWKS, `none` or an HMAC algorithm would let anyone mint tokens. */
  OIDC_ALGORITHMS: z
    .string()
    .default('RS256,ES256,PS256,EdDSA')
    .transform((list) =>
      list
        .split(',')
        .map((a) => a.trim())
        .filter(Boolean),
    )
    .pipe(z.array(z.string().regex(/^(RS|PS|ES)(256|384|512)$|^ES256K$|^EdDSA$|^Ed25519$/, 'an asymmetric JWS algorithm (never none or HS*)')).min(1)),
  OIDC_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /** A token naming an unknown `kid` refetches the JWKS (key rotation), at most once per this many seconds. */
  OIDC_JWKS_COOLDOWN_SECONDS: z.coerce.number().min(0).max(3_600).default(30),
  /** Claim holding the role(s): a string, an array or a space-separated list; a dotted path reads nested claims (realm_access.roles). */
  OIDC_ROLES_CLAIM: z.string().min(1).default('roles'),
  /** Claim naming the caller's tenant (a dotted path reads nested claims); `*` is every tenant. */
  OIDC_TENANT_CLAIM: z.string().min(1).default('tenant'),
  /** The tenant of a token without OIDC_TENANT_CLAIM; unset, such a token is refused (401) rather than guessed. */
  OIDC_DEFAULT_TENANT: z
    .string()
    .regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'one tenant name: letters, digits, dot, underscore and dash (up to 63)')
    .optional(),
  /** Requests per second each credential may make (a token bucket per process); 0 turns the limit off. */
  AMAS_RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(20),
  AMAS_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(100),
  /** /metrics without a credential when the API listens beyond loopback (a scraper without a token); on loopback it is always open. */
  AMAS_METRICS_PUBLIC: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
  /** main-function.ts: `kafka` (its own consumer group) or `http` (Knative posts CloudEvents to `/`). */
  AMAS_FUNCTION_TRANSPORT: z.enum(['kafka', 'http']).default('kafka'),
  // The Lambda role (main-lambda.ts, serverless.yml): SQS carries the events, DynamoDB the leases.
  /** A PostgreSQL schema of its own (tests); default: the connection's search_path. Lambda only. */
  DATABASE_SCHEMA: z.string().optional(),
  /** Unset on AWS (the SDK's default endpoint); ElasticMQ's URL locally, where the queues are then created. */
  SQS_ENDPOINT: z.string().optional(),
  SQS_QUEUE_PREFIX: z.string().default(''),
  /** The queues' redrive maxReceiveCount (serverless.yml): the last receive dead-letters with the reason. */
  SQS_MAX_RECEIVE_COUNT: z.coerce.number().int().min(1).default(5),
  /** Unset on AWS; DynamoDB Local's URL locally, where the tables are then created. */
  DYNAMODB_ENDPOINT: z.string().optional(),
  LEASE_TABLE: z.string().min(3).default('amas-leases'),
  /** The shared agent directory's table on Lambda, unless NEO4J_URL names a graph to keep it in. */
  AGENT_TABLE: z.string().min(3).default('amas-agents'),
});
export type InfraConfig = z.infer<typeof infraSchema>;

export function loadInfra(env: Record<string, string | undefined> = process.env): InfraConfig {
  const parsed = infraSchema.safeParse(Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== '')));
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${i.path.join('.')}=${JSON.stringify(env[String(i.path[0])])}: ${i.message}`);
    throw new ConfigError(`Invalid configuration:\n  ${lines.join('\n  ')}`);
  }
  return parsed.data;
}

/** The whole environment of one process: ORCHESTRATION_* (config.ts), the infrastructure, and the model (LLM_*, null when LLM_BASE_URL is unset). */
export interface Env {
  config: Config;
  infra: InfraConfig;
  llm: LlmSettings | null;
}

/** Parses the environment once; throws ConfigError naming each bad variable. */
export function loadEnv(env: Record<string, string | undefined> = process.env): Env {
  return { config: loadConfig(env), infra: loadInfra(env), llm: llmSettingsFromEnv(env) };
}
