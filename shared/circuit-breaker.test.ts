import { describe, expect, it } from 'vitest';
import { createManualClock } from './adapters/memory/clock.system.js';
import { circuitBreakerFromConfig, createCircuitBreaker, isDependencyFailure, type StateChange } from './circuit-breaker.js';
import { defaultConfig } from './config.js';
import { ConcurrencyConflictError, DependencyUnavailableError, NotFoundError, isRetriable } from './errors.js';

const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });
const fail =
  (error: unknown = refused()) =>
  () =>
    Promise.reject(error);
const ok = () => Promise.resolve('ok');

function setup(threshold = 3, recoveryMs = 1_000) {
  const clock = createManualClock(0);
  const breaker = createCircuitBreaker({ name: 'redis', threshold, recoveryMs, clock });
  const changes: string[] = [];
  breaker.onStateChange((c: StateChange) => changes.push(`${c.from}->${c.to}`));
  const failTimes = async (n: number) => {
    for (let i = 0; i < n; i++) await breaker.execute(fail()).catch(() => undefined);
  };
  return { clock, breaker, changes, failTimes };
}

describe('circuit breaker', () => {
  it('opens after the threshold of consecutive failures and then fails fast', async () => {
    const { breaker, changes, failTimes } = setup(3);
    await failTimes(2);
    expect(breaker.state).toBe('closed');
    await failTimes(1);
    expect(breaker.state).toBe('open');
    expect(changes).toEqual(['closed->open']);
    let called = false;
    const error = await breaker
      .execute(async () => {
        called = true;
      })
      .catch((e: unknown) => e);
    expect(called).toBe(false);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect(isRetriable(error)).toBe(true);
    expect((error as Error).message).toContain('redis');
    expect((error as Error).cause).toMatchObject({ code: 'ECONNREFUSED' });
  });

  it('counts only consecutive failures: a success resets the count', async () => {
    const { breaker, failTimes } = setup(3);
    await failTimes(2);
    await breaker.execute(ok);
    await failTimes(2);
    expect(breaker.state).toBe('closed');
  });

  it('goes half-open after the recovery time and closes when the trial succeeds', async () => {
    const { breaker, clock, changes, failTimes } = setup(2, 1_000);
    await failTimes(2);
    clock.advance(999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
    expect(await breaker.execute(ok)).toBe('ok');
    expect(breaker.state).toBe('closed');
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
  });

  it('re-opens for another full recovery time when the trial fails', async () => {
    const { breaker, clock, changes, failTimes } = setup(2, 1_000);
    await failTimes(2);
    clock.advance(1_500);
    await failTimes(1);
    expect(breaker.state).toBe('open');
    clock.advance(999);
    expect(breaker.state).toBe('open');
    clock.advance(1);
    expect(breaker.state).toBe('half-open');
    expect(changes).toEqual(['closed->open', 'open->half-open', 'half-open->open', 'open->half-open']);
  });

  it('lets exactly one trial call through while half-open', async () => {
    const { breaker, clock, failTimes } = setup(1, 100);
    await failTimes(1);
    clock.advance(100);
    let finish!: () => void;
    const trial = breaker.execute(() => new Promise<string>((resolve) => (finish = () => resolve('trial'))));
    const second = await breaker.execute(ok).catch((e: unknown) => e);
    expect(second).toBeInstanceOf(DependencyUnavailableError);
    finish();
    expect(await trial).toBe('trial');
    expect(await breaker.execute(ok)).toBe('ok');
  });

  it('is not tripped by domain errors, which pass through unchanged', async () => {
    const { breaker } = setup(1);
    const conflict = new ConcurrencyConflictError('moved');
    await expect(breaker.execute(fail(conflict))).rejects.toBe(conflict);
    await expect(breaker.execute(fail(new NotFoundError('workflow w')))).rejects.toBeInstanceOf(NotFoundError);
    expect(breaker.state).toBe('closed');
  });

  it('treats a domain error during the trial as an answer and closes', async () => {
    const { breaker, clock, failTimes } = setup(1, 10);
    await failTimes(1);
    clock.advance(10);
    await breaker.execute(fail(new NotFoundError('x'))).catch(() => undefined);
    expect(breaker.state).toBe('closed');
  });

  it('does not push recovery back for late failures of calls begun before it opened', async () => {
    const { breaker, clock } = setup(1, 100);
    let rejectLate!: (e: unknown) => void;
    const late = breaker.execute(() => new Promise((_, reject) => (rejectLate = reject))).catch(() => undefined);
    await breaker.execute(fail()).catch(() => undefined);
    clock.advance(60);
    rejectLate(refused());
    await late;
    clock.advance(40);
    expect(breaker.state).toBe('half-open');
  });

  it('keeps calling after a listener throws, and stops notifying after unsubscribe', async () => {
    const clock = createManualClock(0);
    const breaker = createCircuitBreaker({ name: 'pg', threshold: 1, recoveryMs: 10, clock });
    const seen: string[] = [];
    breaker.onStateChange(() => {
      throw new Error('broken hook');
    });
    const off = breaker.onStateChange((c) => seen.push(c.to));
    await expect(breaker.execute(fail())).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    off();
    clock.advance(10);
    expect(breaker.state).toBe('half-open');
    expect(seen).toEqual(['open']);
  });

  it('accepts a custom failure classifier', async () => {
    const clock = createManualClock(0);
    const breaker = createCircuitBreaker({ name: 'x', threshold: 1, recoveryMs: 10, clock, isFailure: () => true });
    await breaker.execute(fail(new NotFoundError('x'))).catch(() => undefined);
    expect(breaker.state).toBe('open');
  });
});

describe('isDependencyFailure', () => {
  it('recognises unanswered dependencies anywhere in the cause chain', () => {
    expect(isDependencyFailure(new DependencyUnavailableError('pg'))).toBe(true);
    expect(isDependencyFailure(refused())).toBe(true);
    expect(isDependencyFailure(new Error('wrapped', { cause: Object.assign(new Error('t'), { code: 'ETIMEDOUT' }) }))).toBe(true);
    expect(isDependencyFailure(Object.assign(new Error('slow'), { name: 'TimeoutError' }))).toBe(true);
    expect(isDependencyFailure(new AggregateError([refused()], 'all addresses failed'))).toBe(true);
  });

  it('lets the first classified error decide and ignores plain errors', () => {
    const conflict = Object.assign(new ConcurrencyConflictError('serialization'), { cause: refused() });
    expect(isDependencyFailure(conflict)).toBe(false);
    expect(isDependencyFailure(new NotFoundError('w'))).toBe(false);
    expect(isDependencyFailure(new TypeError('x is undefined'))).toBe(false);
    expect(isDependencyFailure('ECONNREFUSED')).toBe(false);
  });
});

describe('circuitBreakerFromConfig', () => {
  it('builds the configured breaker, or none when disabled', async () => {
    const clock = createManualClock(0);
    const config = defaultConfig({ ORCHESTRATION_CIRCUIT_BREAKER_THRESHOLD: 2, ORCHESTRATION_CIRCUIT_BREAKER_RECOVERY: 0.2 });
    const breaker = circuitBreakerFromConfig('redis', config, clock)!;
    await breaker.execute(fail()).catch(() => undefined);
    expect(breaker.state).toBe('closed');
    await breaker.execute(fail()).catch(() => undefined);
    expect(breaker.state).toBe('open');
    clock.advance(200);
    expect(breaker.state).toBe('half-open');
    expect(circuitBreakerFromConfig('redis', { ...config, ORCHESTRATION_ENABLE_CIRCUIT_BREAKER: false }, clock)).toBeNull();
  });
});
