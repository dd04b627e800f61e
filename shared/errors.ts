import type { ModelUsage } from './domain/usage.js';

/**
 * Every stable error code, once: logs, dead letters, HTTP answers and failed subtasks carry these
 * values, so a new one is added here (and tsc finds any call site that invents one).
 */
export const errorCodes = [
  // engine and delivery
  'INVALID_EVENT',
  'CONCURRENCY_CONFLICT',
  'DEPENDENCY_UNAVAILABLE',
  'NOT_FOUND',
  'CONFIG_INVALID',
  'LEASE_HELD',
  'INVALID_TRANSITION',
  'LOG_INVALID',
  'UNCLASSIFIED',
  // planning
  'PLANNING_FAILED',
  'INVALID_PLAN_REQUEST',
  'DECOMPOSITION_TIMEOUT',
  'EMPTY_PLAN',
  'PLAN_TOO_LARGE',
  // language models and agents
  'LLM_RATE_LIMITED',
  'LLM_UNAVAILABLE',
  'LLM_TIMEOUT',
  'LLM_REFUSED',
  'LLM_ERROR',
  'LLM_EMPTY_ANSWER',
  'LLM_GRADE_INVALID',
  'AGENT_STOPPED',
  // messaging and transports
  'MESSAGE_TIMEOUT',
  'UNAUTHENTICATED',
  'BACKPRESSURE',
  'BUS_CLOSED',
  'UNSUPPORTED',
  'NO_QUEUE',
  'SQS_REJECTED',
  'SQS_TOO_MANY_HEADERS',
  'SQS_BAD_HEADER',
  // command line
  'USAGE',
  'API_ERROR',
  'UNREACHABLE',
] as const;

export type ErrorCode = (typeof errorCodes)[number];

/**
 * Classified errors (kafkajs / Inngest style): the runtime decides ack, retry or dead-letter by
 * walking `cause` for `retriable`, never by matching message text.
 */
export class OrchestrationError extends Error {
  readonly code: ErrorCode;
  readonly retriable: boolean;

  constructor(code: ErrorCode, message: string, options: { retriable?: boolean; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retriable = options.retriable ?? false;
  }
}

/** Input that can never be processed (schema violation, unknown type): dead-letter at once. */
export class InvalidEventError extends OrchestrationError {
  constructor(message: string, cause?: unknown) {
    super('INVALID_EVENT', message, { retriable: false, cause });
  }
}

/** Another delivery changed the same row first; re-reading and retrying resolves it. */
export class ConcurrencyConflictError extends OrchestrationError {
  constructor(message: string) {
    super('CONCURRENCY_CONFLICT', message, { retriable: true });
  }
}

/**
 * A handler running on an event's carried state needs a read to decide (assign found no free slot:
 * spawning or parking the work must not happen for a redelivered event, which only a read tells).
 * processEvent runs the event again through the read path.
 */
export class CarriedStateNotEnoughError extends ConcurrencyConflictError {}

/** A dependency (database, broker, cache) did not answer; worth retrying later. */
export class DependencyUnavailableError extends OrchestrationError {
  constructor(dependency: string, cause?: unknown) {
    super('DEPENDENCY_UNAVAILABLE', `${dependency} is unavailable`, { retriable: true, cause });
  }
}

export class NotFoundError extends OrchestrationError {
  constructor(what: string) {
    super('NOT_FOUND', `${what} not found`, { retriable: false });
  }
}

export class ConfigError extends OrchestrationError {
  constructor(message: string) {
    super('CONFIG_INVALID', message, { retriable: false });
  }
}

/** A planner gave no usable plan; `usage` is what it spent on a model trying (the workflow pays it anyway). */
export class PlanningError extends OrchestrationError {
  constructor(
    message: string,
    readonly usage: ModelUsage,
    cause?: unknown,
  ) {
    super('PLANNING_FAILED', message, { retriable: false, cause });
  }
}

/** True when this error, or any error in its cause chain, says a retry may succeed. */
export function isRetriable(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && !seen.has(current)) {
    seen.add(current);
    if (current instanceof OrchestrationError) return current.retriable;
    if (typeof current === 'object' && 'retriable' in current && typeof current.retriable === 'boolean') {
      return current.retriable;
    }
    current = (current as { cause?: unknown }).cause;
  }
  // An unclassified error is most likely a transient driver failure: retry, then dead-letter.
  return true;
}

export function describeError(error: unknown): { code: ErrorCode; message: string } {
  if (error instanceof OrchestrationError) return { code: error.code, message: error.message };
  if (error instanceof Error) return { code: 'UNCLASSIFIED', message: error.message };
  return { code: 'UNCLASSIFIED', message: String(error) };
}
