import { type CircuitBreaker, type CircuitState, isDependencyFailure } from '../circuit-breaker.js';
import { DependencyUnavailableError, describeError } from '../errors.js';
import type { EventBus } from '../ports/event-bus.port.js';
import type { LeaseStore } from '../ports/lease-store.port.js';
import type { WorkflowStore } from '../ports/workflow-store.port.js';
import { retry, type RetryOptions } from '../retry.js';

/**
 * Puts any port behind retry + circuit breaker: breaker.execute(retry(call)), so one logical call
 * is one breaker outcome and an open circuit fails at once, without waiting out retries. Only
 * dependency failures are retried and counted; every other error (ConcurrencyConflictError above
 * all: the handler must re-read) reaches the caller unchanged on the first throw. Retrying writes
 * is safe because each is idempotent or fenced: commit and createWorkflow by their keys, acquire by
 * holder, renew and release by token; a publish may repeat, which consumers already tolerate.
 */

export interface Health {
  dependency: string;
  ok: boolean;
  circuit: CircuitState | 'disabled';
  error?: string;
}
export interface HealthCheck {
  /** Runs the probe through the breaker (it may be the half-open trial), without retries. */
  health(): Promise<Health>;
}

export type RetryPolicy = RetryOptions | { read: RetryOptions; write: RetryOptions };
export interface ResilienceOptions {
  /** Names the dependency in DependencyUnavailableError; defaults to the breaker's name. */
  dependency?: string;
  /** What health() calls; each wrapper has a default. */
  probe?: () => Promise<unknown>;
  healthTimeoutMs?: number;
}

/** Short retries for reads, a few more for writes; delays stay well under a delivery's budget. */
export const defaultRetryPolicy = {
  read: { retries: 2, initialDelayMs: 25, maxDelayMs: 200 },
  write: { retries: 3, initialDelayMs: 50, maxDelayMs: 500 },
} satisfies RetryPolicy;

type Kind = 'read' | 'write' | 'direct';

// ioredis and pg say "the connection is gone" only in their message text; kafkajs by error name.
const driverMessages = [
  /^Connection is closed/,
  /Stream isn't writeable/,
  /^Command timed out/,
  /^Connection terminated/,
  /timeout exceeded when trying to connect/,
  /not queryable/,
];
const driverNames = new Set([
  'MaxRetriesPerRequestError',
  'KafkaJSConnectionError',
  'KafkaJSRequestTimeoutError',
  'KafkaJSNumberOfRetriesExceeded',
  'KafkaJSBrokerNotFound',
  'KafkaJSConnectionClosedError',
]);
// PostgreSQL SQLSTATE class 08 (connection exception), 57P01-57P03 (shutting down), 53300 (too many connections).
const pgCode = /^(08[0-9A-Z]{3}|57P0[1-3]|53300)$/;

/** True for a driver's own way of saying the server is unreachable (the generic cases are isDependencyFailure's). */
export function isDriverConnectionError(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const { code } = error as { code?: unknown };
  return driverNames.has(error.name) || driverMessages.some((pattern) => pattern.test(error.message)) || (typeof code === 'string' && pgCode.test(code));
}

/** A dependency failure becomes DependencyUnavailableError (with the driver error as cause); anything else is returned as is. */
export function toDependencyError(dependency: string, error: unknown): unknown {
  if (error instanceof DependencyUnavailableError) return error;
  return isDependencyFailure(error) || isDriverConnectionError(error) ? new DependencyUnavailableError(dependency, error) : error;
}

/** Carries a non-dependency error through retry() (which would retry a retriable conflict) untouched. */
class PassThrough extends Error {
  readonly retriable = false;
  constructor(readonly original: unknown) {
    super('pass-through');
  }
}

function withTimeout<T>(ms: number, dependency: string, work: Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DependencyUnavailableError(dependency, Object.assign(new Error(`no answer in ${ms} ms`), { name: 'TimeoutError' }))),
      ms,
    );
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}

function resilience(breaker: CircuitBreaker | null, policy: RetryPolicy, options: ResilienceOptions, role: string) {
  const dependency = options.dependency ?? breaker?.name ?? role;
  const retries = 'read' in policy ? policy : { read: policy, write: policy };
  const noRetry: RetryOptions = { retries: 0, initialDelayMs: 0, maxDelayMs: 0 };

  async function call<T>(retryOptions: RetryOptions, fn: () => Promise<T>): Promise<T> {
    const attempts = () =>
      retry(retryOptions, async () => {
        try {
          return await fn();
        } catch (error) {
          const mapped = toDependencyError(dependency, error);
          throw mapped instanceof DependencyUnavailableError ? mapped : new PassThrough(error);
        }
      });
    try {
      return breaker ? await breaker.execute(attempts) : await attempts();
    } catch (error) {
      throw error instanceof PassThrough ? error.original : error;
    }
  }

  return {
    call: <T>(kind: Kind, fn: () => Promise<T>): Promise<T> => (kind === 'direct' ? fn() : call(retries[kind], fn)),
    async health(defaultProbe?: () => Promise<unknown>): Promise<Health> {
      const probe = options.probe ?? defaultProbe;
      const circuit = () => breaker?.state ?? 'disabled';
      if (circuit() === 'open') return { dependency, ok: false, circuit: 'open', error: `${dependency} circuit is open` };
      if (!probe) return { dependency, ok: true, circuit: circuit() };
      try {
        await call(noRetry, () => withTimeout(options.healthTimeoutMs ?? 1_000, dependency, probe()));
        return { dependency, ok: true, circuit: circuit() };
      } catch (error) {
        return { dependency, ok: false, circuit: circuit(), error: describeError(error).message };
      }
    },
  };
}

type Guard = ReturnType<typeof resilience>;

/** Wraps each method named in `kinds`; the Record over keyof T makes a new port method a compile error here. */
function wrap<T extends object>(inner: T, kinds: Record<keyof T, Kind>, guard: Guard): T {
  const methods = inner as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
  const wrapped: Record<string, unknown> = {};
  for (const [name, kind] of Object.entries(kinds) as [string, Kind][]) {
    if (typeof methods[name] !== 'function') continue; // an optional method the adapter lacks stays absent
    wrapped[name] = (...args: unknown[]) => guard.call(kind, () => methods[name]!.apply(inner, args));
  }
  return wrapped as T;
}

const leaseKinds = {
  acquire: 'write',
  renew: 'write',
  reclaim: 'write',
  renewHolder: 'write',
  release: 'write',
  get: 'read',
  listExpired: 'read',
  nextExpiry: 'read',
  close: 'direct',
} as const satisfies Record<keyof LeaseStore, Kind>;

const workflowKinds = {
  migrate: 'write',
  createWorkflow: 'write',
  getWorkflow: 'read',
  listWorkflows: 'read',
  countWorkflows: 'read',
  countActiveWorkflows: 'read',
  getSubtasks: 'read',
  getSubtask: 'read',
  getAttempts: 'read',
  findWaitingSubtasks: 'read',
  findOverdueSubtasks: 'read',
  findLongRunningSubtasks: 'read',
  getSubtasksById: 'read',
  getWorkflowsById: 'read',
  findSubtasksByAgent: 'read',
  hasProcessed: 'read',
  readForEvent: 'read',
  commit: 'write',
  commitClaimed: 'write',
  pendingOutbox: 'read',
  markPublished: 'write',
  drainOutbox: 'write',
  unconsumedOutbox: 'read',
  close: 'direct',
} as const satisfies Record<keyof WorkflowStore, Kind>;

const busKinds = {
  publish: 'write',
  subscribe: 'write',
  lag: 'read',
  read: 'read',
  close: 'direct',
} as const satisfies Record<keyof EventBus, Kind>;

export function resilientLeaseStore(
  inner: LeaseStore,
  breaker: CircuitBreaker | null,
  retryOptions: RetryPolicy,
  options: ResilienceOptions = {},
): LeaseStore & HealthCheck {
  const guard = resilience(breaker, retryOptions, options, 'lease store');
  return { ...wrap(inner, leaseKinds, guard), health: () => guard.health(() => inner.get('__amas_health__')) };
}

export function resilientWorkflowStore(
  inner: WorkflowStore,
  breaker: CircuitBreaker | null,
  retryOptions: RetryPolicy,
  options: ResilienceOptions = {},
): WorkflowStore & HealthCheck {
  const guard = resilience(breaker, retryOptions, options, 'workflow store');
  return { ...wrap(inner, workflowKinds, guard), health: () => guard.health(() => inner.countActiveWorkflows()) };
}

/** The bus has no cheap, side-effect-free call on every transport: without a `probe`, health reports the circuit only. */
export function resilientEventBus(
  inner: EventBus,
  breaker: CircuitBreaker | null,
  retryOptions: RetryPolicy,
  options: ResilienceOptions = {},
): EventBus & HealthCheck {
  const guard = resilience(breaker, retryOptions, options, 'event bus');
  return { ...wrap(inner, busKinds, guard), health: () => guard.health() };
}
