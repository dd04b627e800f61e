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
  ORCHESTRATION_HEARTBEAT_INTERVAL: number(0.05, 3_600, 60, 'Seconds between agent heartbeats (health reports; an agent silent for 3 intervals is unhealthy)'),
  ORCHESTRATION_LEASE_TTL_SECONDS: number(
    0.15,
    3_600,
    6,
    "Seconds a subtask's lease lives unrenewed; agents renew every third of it, so 3 missed renewals re-run the work",
  ),
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
  ORCHESTRATION_EVENT_SNAPSHOTS: boolean(
    true,
    'subtask.ready and subtask.assigned carry the state assign and dispatch decide on: they run without a read and their commits check the version',
  ),
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
