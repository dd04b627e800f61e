import { z } from 'zod';
import { ConfigError } from './errors.js';

/**
 * Every ORCHESTRATION_* variable (the seed's deployment guide, with its defaults, plus the
 * original's hidden constants and our runtime knobs), parsed once. Each entry carries the expected
 * form so a bad value stops start-up with a message that names the variable.
 */
type Entry<T> = { schema: z.ZodType<T>; form: string; default: string; help: string };

const number = (min: number, max: number, def: number, help: string): Entry<number> => ({
  schema: z.coerce.number().refine((n) => Number.isFinite(n) && n >= min && n <= max),
  form: `a number from ${min} to ${max}`,
  default: String(def),
  help,
});
const integer = (min: number, max: number, def: number, help: string): Entry<number> => ({
  schema: z.coerce.number().int().min(min).max(max),
  form: `an integer from ${min} to ${max}`,
  default: String(def),
  help,
});
const boolean = (def: boolean, help: string): Entry<boolean> => ({
  schema: z
    .string()
    .toLowerCase()
    .pipe(z.enum(['true', 'false', '1', '0', 'yes', 'no']))
    .transform((v) => v === 'true' || v === '1' || v === 'yes'),
  form: 'true or false',
  default: String(def),
  help,
});
const oneOf = <const T extends string>(values: readonly [T, ...T[]], def: T, help: string): Entry<T> => ({
  schema: z.string().toUpperCase().pipe(z.enum(values)) as unknown as z.ZodType<T>,
  form: `one of ${values.join(', ')}`,
  default: def,
  help,
});

export const configEntries = {
  // Agent management
  ORCHESTRATION_MAX_AGENTS_PER_POOL: integer(1, 10_000, 5, 'Maximum agents per specialty pool'),
  ORCHESTRATION_MAX_TASKS_PER_AGENT: integer(1, 1_000, 3, 'Maximum concurrent tasks per agent'),
  ORCHESTRATION_HEARTBEAT_INTERVAL: number(0.05, 3_600, 60, 'Seconds between agent heartbeats (leases live 3 intervals)'),
  ORCHESTRATION_MAX_AGENT_SPAWN_RATE: number(0.01, 10_000, 10, 'Maximum agents spawned per second'),
  ORCHESTRATION_AGENT_FAILURE_THRESHOLD: integer(1, 100, 3, 'Failures after which an agent is unhealthy'),
  // Task decomposition
  ORCHESTRATION_DECOMPOSITION_TIMEOUT: number(0.001, 3_600, 120, 'Seconds a plan may take before decomposition fails'),
  ORCHESTRATION_MAX_SUBTASKS: integer(1, 1_000, 50, 'Maximum subtasks in one plan'),
  ORCHESTRATION_PLAN_APPROVAL: oneOf(
    ['BEFORE_EXECUTION', 'BEFORE_DELIVERY', 'OFF'],
    'BEFORE_EXECUTION',
    'When a plan marked approvalRequired waits for an approver: before any subtask runs, before delivery, or never (requireApproval still applies); any case',
  ),
  // Communication
  ORCHESTRATION_MESSAGE_TIMEOUT: number(0.01, 86_400, 300, 'Seconds a request waits for its response'),
  ORCHESTRATION_MESSAGE_RETRIES: integer(0, 100, 3, 'Redeliveries of an unanswered message'),
  ORCHESTRATION_MESSAGE_BACKLOG_WARNING: integer(1, 10_000_000, 1_000, 'Backlog that raises a warning'),
  ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL: integer(1, 10_000_000, 5_000, 'Backlog that turns readiness red'),
  ORCHESTRATION_MESSAGE_QUEUE_MAX_SIZE: integer(1, 10_000_000, 10_000, 'Maximum queued messages per recipient'),
  // Workflow execution
  ORCHESTRATION_WORKFLOW_TIMEOUT: number(0.0001, 8_760, 24, 'Hours before a workflow is failed as timed out'),
  ORCHESTRATION_WORKFLOW_BUDGET_USD: number(0, 1_000_000, 0, 'US dollars one workflow may spend on models (planner and agents) before it fails; 0 is no limit'),
  ORCHESTRATION_QUALITY_THRESHOLD: number(0, 1, 0.85, 'Minimum quality score for a subtask result to pass'),
  ORCHESTRATION_MAX_WORKFLOWS: integer(1, 1_000_000, 100, 'Maximum concurrent (active) workflows of one tenant'),
  ORCHESTRATION_MAX_WORKFLOWS_GLOBAL: integer(1, 10_000_000, 1_000, 'Maximum concurrent (active) workflows of all tenants together'),
  ORCHESTRATION_MAX_TOTAL_AGENTS: integer(1, 1_000_000, 500, 'Maximum agents in all pools'),
  ORCHESTRATION_SUBTASK_TIMEOUT_FACTOR: number(0.001, 1_000, 2, 'A subtask times out after factor x its estimate'),
  // Scheduling of work waiting for a slot
  ORCHESTRATION_PRIORITY_AGING_SECONDS: number(0.001, 86_400, 60, 'Seconds of waiting that raise waiting work one priority rank, so LOW never starves'),
  ORCHESTRATION_TENANT_WEIGHTS: {
    schema: z.string().regex(/^(?:[^\s=,]+\s*=\s*(?:\d*[1-9]\d*(?:\.\d+)?|\d+\.\d*[1-9]\d*)\s*(?:,\s*|$))*$/),
    form: 'tenant=weight pairs separated by commas, weights above 0 (e.g. acme=2,beta=1)',
    default: '',
    help: "Each tenant's share of contended slots; a tenant not named weighs 1",
  },
  // Performance
  ORCHESTRATION_ENABLE_CACHE: boolean(true, 'Cache agent directory look-ups'),
  ORCHESTRATION_ENABLE_METRICS: boolean(true, 'Expose Prometheus metrics on /metrics'),
  ORCHESTRATION_ENABLE_BACKPRESSURE: boolean(true, 'Refuse new tasks (429) past MAX_WORKFLOWS'),
  ORCHESTRATION_GRACEFUL_DEGRADATION: boolean(true, 'Keep serving reads while a dependency is down'),
  // Observability
  ORCHESTRATION_LOG_LEVEL: oneOf(['DEBUG', 'INFO', 'WARNING', 'ERROR'], 'INFO', 'Log level'),
  ORCHESTRATION_ENABLE_TRACING: boolean(true, 'Propagate W3C traceparent on every event'),
  ORCHESTRATION_TRACE_SAMPLE_RATE: number(0, 1, 1, 'Fraction of workflows traced'),
  // Error handling
  ORCHESTRATION_ENABLE_CIRCUIT_BREAKER: boolean(true, 'Open a circuit on repeated dependency failures'),
  ORCHESTRATION_CIRCUIT_BREAKER_THRESHOLD: integer(1, 1_000, 5, 'Consecutive failures that open the circuit'),
  ORCHESTRATION_CIRCUIT_BREAKER_RECOVERY: number(0.01, 3_600, 60, 'Seconds before an open circuit is tried again'),
  ORCHESTRATION_RETRY_ATTEMPTS: integer(0, 100, 3, 'Retries of a subtask, and of a failed event delivery'),
  ORCHESTRATION_RETRY_DELAY_INITIAL: number(0, 3_600, 1, 'Seconds before the first delivery retry'),
  ORCHESTRATION_RETRY_DELAY_MAX: number(0, 3_600, 60, 'Upper bound of the retry back-off in seconds'),
  // Demo agents of the embedded runtime
  ORCHESTRATION_DEMO_AGENTS: boolean(true, 'Register labelled demo agents (embedded runtime)'),
  ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: integer(0, 100, 2, 'Demo agents registered per specialty'),
  ORCHESTRATION_DEMO_AGENT_DELAY_MS: integer(0, 600_000, 40, 'Milliseconds a demo agent works on a subtask'),
  ORCHESTRATION_DEMO_AGENT_QUALITY: number(0, 1, 0.95, 'Quality score a demo agent reports'),
  ORCHESTRATION_DEMO_LOW_QUALITY_RATE: number(0, 1, 0, 'Fraction of demo results reported below threshold'),
} satisfies Record<string, Entry<unknown>>;

export type ConfigKey = keyof typeof configEntries;
export type Config = { [K in ConfigKey]: (typeof configEntries)[K] extends Entry<infer T> ? T : never };
export const configKeys = Object.keys(configEntries) as ConfigKey[];

/** Parses the environment; throws ConfigError naming every bad variable and its expected form. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const problems: string[] = [];
  const out: Record<string, unknown> = {};
  for (const key of configKeys) {
    const entry = configEntries[key] as Entry<unknown>;
    const raw = env[key];
    const value = raw === undefined || raw.trim() === '' ? entry.default : raw.trim();
    const parsed = entry.schema.safeParse(value);
    if (parsed.success) out[key] = parsed.data;
    else problems.push(`${key}=${JSON.stringify(raw)} is invalid: expected ${entry.form}`);
  }
  const config = out as Config;
  if (problems.length === 0 && config.ORCHESTRATION_MESSAGE_BACKLOG_WARNING > config.ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL) {
    problems.push('ORCHESTRATION_MESSAGE_BACKLOG_WARNING must not exceed ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL');
  }
  if (problems.length > 0) throw new ConfigError(`Invalid configuration:\n  ${problems.join('\n  ')}`);
  return config;
}

export const defaultConfig = (overrides: Partial<Config> = {}): Config => ({ ...loadConfig({}), ...overrides });

/** Where the real servers are; each unset one falls back to its embedded stand-in. */
export const infraSchema = z.object({
  PORT: z.coerce.number().int().min(0).max(65_535).default(8000),
  KAFKA_BROKERS: z.string().min(1).optional(),
  DATABASE_URL: z.string().min(1).optional(),
  /**
   * Where the embedded PGlite keeps its files, so `npm start` keeps workflows across restarts;
   * `memory` keeps nothing. Ignored when DATABASE_URL is set.
   */
  AMAS_DATA_DIR: z.string().trim().min(1).default('./.amas-data').transform((dir) => (dir.toLowerCase() === 'memory' ? null : dir)),
  /**
   * Group commit on PostgreSQL: a process's concurrent snapshot reads and commits share statements
   * and transactions (about twice the events/s in bench:kafka). Off by default: with it on, the
   * chaos suite's re-dispatch of lost work exceeded its 5 s bound in 3 of 9 runs (worst 7.3 s).
   */
  DATABASE_GROUP_COMMIT: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  REDIS_URL: z.string().min(1).optional(),
  NEO4J_URL: z.string().min(1).optional(),
  /** Derives every agent's message-signing key; processes that exchange messages must share it. */
  AMAS_MESSAGE_SECRET: z.string().min(16, 'AMAS_MESSAGE_SECRET needs at least 16 characters').optional(),
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1_000).default(6),
  /** Keeps environments that share one cluster apart: every topic and consumer group gets the prefix. */
  KAFKA_TOPIC_PREFIX: z.string().regex(/^[A-Za-z0-9._-]*$/, 'letters, digits, dot, underscore and dash only').default(''),
  /**
   * Workflows (record keys) one consumer works on at once within a partition, each in order. More
   * keys at once means larger group commits to PostgreSQL and more events/s (16 in the benchmark),
   * but while agents are saturated more new work is in flight to race a re-run for a freed slot: at
   * 16 the chaos suite once re-dispatched lost work in 7.3 s (bound 5 s), so 4 stays the default.
   */
  KAFKA_KEYS_CONCURRENCY: z.coerce.number().int().min(1).max(1_000).default(4),
  /** How soon a killed consumer's partitions move to a live one (the broker's minimum is 6000). */
  KAFKA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(10_000),
  /** Names one demo-agents process among several: its agents are demo-<instance>-…, its inbox group its own. */
  AMAS_DEMO_AGENT_INSTANCE: z.string().regex(/^[a-z0-9-]*$/, 'lower-case letters, digits and dashes only').default(''),
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
    .transform((list) => list.split(',').map((a) => a.trim()).filter(Boolean))
    .pipe(z.array(z.string().regex(/^(RS|PS|ES)(256|384|512)$|^ES256K$|^EdDSA$|^Ed25519$/, 'an asymmetric JWS algorithm (never none or HS*)')).min(1)),
  OIDC_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  /** A token naming an unknown `kid` refetches the JWKS (key rotation), at most once per this many seconds. */
  OIDC_JWKS_COOLDOWN_SECONDS: z.coerce.number().min(0).max(3_600).default(30),
  /** Claim holding the role(s): a string, an array or a space-separated list; a dotted path reads nested claims (realm_access.roles). */
  OIDC_ROLES_CLAIM: z.string().min(1).default('roles'),
  /** Claim naming the caller's tenant (a dotted path reads nested claims); `*` is every tenant. */
  OIDC_TENANT_CLAIM: z.string().min(1).default('tenant'),
  /** The tenant of a token without OIDC_TENANT_CLAIM; unset, such a token is refused (401) rather than guessed. */
  OIDC_DEFAULT_TENANT: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/, 'one tenant name: letters, digits, dot, underscore and dash (up to 63)').optional(),
  /** Requests per second each credential may make (a token bucket per process); 0 turns the limit off. */
  AMAS_RATE_LIMIT_PER_SECOND: z.coerce.number().min(0).max(1_000_000).default(20),
  AMAS_RATE_LIMIT_BURST: z.coerce.number().int().min(1).max(1_000_000).default(100),
  /** /metrics without a credential when the API listens beyond loopback (a scraper without a token); on loopback it is always open. */
  AMAS_METRICS_PUBLIC: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
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
