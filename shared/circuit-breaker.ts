import type { Config } from './config.js';
import { DependencyUnavailableError, OrchestrationError } from './errors.js';
import type { Clock } from './ports/clock.port.js';

export type CircuitState = 'closed' | 'open' | 'half-open';

export interface StateChange {
  breaker: string;
  from: CircuitState;
  to: CircuitState;
}

export interface CircuitBreakerOptions {
  /** The dependency's name, used in errors and state changes. */
  name: string;
  /** Consecutive dependency failures that open the circuit. */
  threshold: number;
  /** How long the circuit stays open before one trial call is let through. */
  recoveryMs: number;
  clock: Clock;
  /** Which errors say the dependency is unwell; the default is `isDependencyFailure`. */
  isFailure?: (error: unknown) => boolean;
}

export interface CircuitBreaker {
  readonly name: string;
  /** Read lazily against the clock: an open circuit whose recovery time passed reads half-open. */
  readonly state: CircuitState;
  /** Runs `fn`, or fails fast with DependencyUnavailableError while the circuit is open. */
  execute<T>(fn: () => Promise<T>): Promise<T>;
  /** For readiness and a metric; returns an unsubscribe function. */
  onStateChange(listener: (change: StateChange) => void): () => void;
}

const connectionCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);

/**
 * True for a dependency that did not answer: a DependencyUnavailableError, a socket error code or a
 * timeout. The first classified error in the cause chain decides, so a ConcurrencyConflictError or
 * NotFoundError (the dependency answered) never counts, whatever it wraps.
 */
export function isDependencyFailure(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0) {
    const current = pending.shift();
    if (!current || typeof current !== 'object' || seen.has(current)) continue;
    seen.add(current);
    if (current instanceof DependencyUnavailableError) return true;
    if (current instanceof OrchestrationError) return false;
    const { code, name, cause, errors } = current as { code?: unknown; name?: unknown; cause?: unknown; errors?: unknown };
    if (typeof code === 'string' && connectionCodes.has(code)) return true;
    if (name === 'TimeoutError') return true;
    pending.push(cause, ...(Array.isArray(errors) ? errors : []));
  }
  return false;
}

/**
 * closed → open after `threshold` consecutive dependency failures → half-open once `recoveryMs`
 * passed, letting one trial call through (others still fail fast) → closed on its success, open
 * again on its failure. An error that is not a dependency failure proves the dependency answered,
 * so it counts as a success. No timers: time is read from the clock at each call.
 */
export function createCircuitBreaker(options: CircuitBreakerOptions): CircuitBreaker {
  const { name, threshold, recoveryMs, clock } = options;
  const isFailure = options.isFailure ?? isDependencyFailure;
  const listeners = new Set<(change: StateChange) => void>();
  let state: CircuitState = 'closed';
  let failures = 0;
  let openedAt = 0;
  let trialInFlight = false;
  let lastError: unknown;

  const moveTo = (to: CircuitState) => {
    if (to === state) return;
    const change = { breaker: name, from: state, to };
    state = to;
    for (const listener of listeners) {
      try {
        listener(change);
      } catch {
        // A broken metric or log hook must not change the outcome of the call.
      }
    }
  };
  const current = (): CircuitState => {
    if (state === 'open' && clock.now() - openedAt >= recoveryMs) moveTo('half-open');
    return state;
  };
  const open = () => {
    openedAt = clock.now();
    moveTo('open');
  };

  return {
    name,
    get state() {
      return current();
    },

    async execute<T>(fn: () => Promise<T>): Promise<T> {
      const now = current();
      if (now === 'open' || (now === 'half-open' && trialInFlight)) throw new DependencyUnavailableError(name, lastError);
      const trial = now === 'half-open';
      if (trial) trialInFlight = true;
      try {
        const result = await fn();
        failures = 0;
        moveTo('closed');
        return result;
      } catch (error) {
        if (!isFailure(error)) {
          failures = 0;
          moveTo('closed');
        } else {
          lastError = error;
          failures += 1;
          // A late failure of a call begun before the circuit opened does not push the recovery back.
          if (trial || (state === 'closed' && failures >= threshold)) open();
        }
        throw error;
      } finally {
        if (trial) trialInFlight = false;
      }
    },

    onStateChange(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
  };
}

type BreakerConfig = Pick<
  Config,
  'ORCHESTRATION_ENABLE_CIRCUIT_BREAKER' | 'ORCHESTRATION_CIRCUIT_BREAKER_THRESHOLD' | 'ORCHESTRATION_CIRCUIT_BREAKER_RECOVERY'
>;

/** The breaker the configuration asks for, or null when ORCHESTRATION_ENABLE_CIRCUIT_BREAKER=false. */
export function circuitBreakerFromConfig(name: string, config: BreakerConfig, clock: Clock): CircuitBreaker | null {
  if (!config.ORCHESTRATION_ENABLE_CIRCUIT_BREAKER) return null;
  return createCircuitBreaker({
    name,
    threshold: config.ORCHESTRATION_CIRCUIT_BREAKER_THRESHOLD,
    recoveryMs: config.ORCHESTRATION_CIRCUIT_BREAKER_RECOVERY * 1_000,
    clock,
  });
}
