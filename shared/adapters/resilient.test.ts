import { describe, expect, it } from 'vitest';
import { createCircuitBreaker } from '../circuit-breaker.js';
import { ConcurrencyConflictError, DependencyUnavailableError, NotFoundError } from '../errors.js';
import type { WorkflowStore } from '../ports/workflow-store.port.js';
import { createManualClock, systemClock } from './memory/clock.system.js';
import { createMemoryEventBus } from './memory/event-bus.memory.js';
import { createMemoryLeaseStore } from './memory/lease-store.memory.js';
import { resilientEventBus, resilientLeaseStore, resilientWorkflowStore, toDependencyError } from './resilient.js';

const fast = { retries: 2, initialDelayMs: 1, maxDelayMs: 2 };
const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:6379'), { code: 'ECONNREFUSED' });

/** Wraps a real in-memory port so that any method fails on demand; counts the calls that reach it. */
function flaky<T extends object>(inner: T) {
  const queued: unknown[] = [];
  const state = { calls: 0, down: null as unknown };
  const port = new Proxy(inner, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function') return value;
      return async (...args: unknown[]) => {
        state.calls += 1;
        const next = queued.length > 0 ? queued.shift() : state.down;
        if (next) throw next;
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  return { port, state, failNext: (...errors: unknown[]) => queued.push(...errors) };
}

function leases(threshold = 3, recoveryMs = 1_000) {
  const clock = createManualClock(0);
  const fake = flaky(createMemoryLeaseStore(systemClock));
  const breaker = createCircuitBreaker({ name: 'redis', threshold, recoveryMs, clock });
  return { clock, fake, breaker, store: resilientLeaseStore(fake.port, breaker, fast) };
}

describe('resilient wrappers: retries', () => {
  it('retries a refused connection and returns the answer', async () => {
    const { fake, store } = leases();
    fake.failNext(refused(), refused());
    expect(await store.acquire('k', 'h', 1_000)).toMatchObject({ key: 'k', holder: 'h', token: 1 });
    expect(fake.state.calls).toBe(3);
  });

  it('gives up after the retries with DependencyUnavailableError carrying the driver error', async () => {
    const { fake, store } = leases();
    const last = refused();
    fake.failNext(refused(), refused(), last);
    const error = await store.get('k').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(DependencyUnavailableError);
    expect((error as Error).message).toBe('redis is unavailable');
    expect((error as Error).cause).toBe(last);
    expect(fake.state.calls).toBe(3);
  });

  it('passes a ConcurrencyConflictError from commit straight through, unretried and uncounted', async () => {
    const fake = flaky(stubWorkflowStore());
    const breaker = createCircuitBreaker({ name: 'pg', threshold: 1, recoveryMs: 1_000, clock: createManualClock(0) });
    const store = resilientWorkflowStore(fake.port, breaker, fast);
    const conflict = new ConcurrencyConflictError('workflow w moved');
    fake.failNext(conflict);
    await expect(store.commit({ consumer: 'c', eventId: 'e' })).rejects.toBe(conflict);
    expect(fake.state.calls).toBe(1);
    expect(breaker.state).toBe('closed');
  });

  it('retries commit when the database connection dropped', async () => {
    const fake = flaky(stubWorkflowStore());
    const store = resilientWorkflowStore(fake.port, null, fast);
    fake.failNext(Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' }));
    expect(await store.commit({ consumer: 'c', eventId: 'e' })).toBe('applied');
    expect(fake.state.calls).toBe(2);
  });

  it('does not retry domain errors or unclassified bugs', async () => {
    const { fake, store, breaker } = leases(1);
    const missing = new NotFoundError('lease k');
    fake.failNext(missing);
    await expect(store.get('k')).rejects.toBe(missing);
    fake.failNext(new TypeError('x is undefined'));
    await expect(store.get('k')).rejects.toBeInstanceOf(TypeError);
    expect(fake.state.calls).toBe(2);
    expect(breaker.state).toBe('closed');
  });

  it('uses the read policy for reads and the write policy for writes', async () => {
    const fake = flaky(createMemoryLeaseStore(systemClock));
    const store = resilientLeaseStore(fake.port, null, { read: { ...fast, retries: 0 }, write: { ...fast, retries: 4 } });
    fake.state.down = refused();
    await expect(store.get('k')).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(fake.state.calls).toBe(1);
    await expect(store.release('k', 1)).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(fake.state.calls).toBe(1 + 5);
  });
});

describe('resilient wrappers: circuit breaker and health', () => {
  it('fails fast once the circuit is open, and health turns red without touching the store', async () => {
    const { fake, store, breaker } = leases(2);
    fake.state.down = refused();
    for (let i = 0; i < 2; i++) await expect(store.acquire('k', 'h', 1_000)).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(breaker.state).toBe('open');
    const callsWhenOpened = fake.state.calls;
    await expect(store.renew('k', 1, 1_000)).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(await store.health()).toEqual({ dependency: 'redis', ok: false, circuit: 'open', error: 'redis circuit is open' });
    expect(fake.state.calls).toBe(callsWhenOpened);
  });

  it('recovers through the health probe as the half-open trial', async () => {
    const { fake, store, breaker, clock } = leases(1, 500);
    fake.state.down = refused();
    await store.get('k').catch(() => undefined);
    clock.advance(500);
    expect(await store.health()).toMatchObject({ ok: false, circuit: 'open' });
    clock.advance(500);
    fake.state.down = null;
    expect(await store.health()).toEqual({ dependency: 'redis', ok: true, circuit: 'closed' });
    expect(breaker.state).toBe('closed');
    expect(await store.acquire('k', 'h', 1_000)).not.toBeNull();
  });

  it('reports a probe that hangs as red after the health timeout', async () => {
    const hang = () => new Promise<never>(() => undefined);
    const store = resilientLeaseStore(createMemoryLeaseStore(systemClock), null, fast, { probe: hang, healthTimeoutMs: 20 });
    const health = await store.health();
    expect(health).toMatchObject({ dependency: 'lease store', ok: false, circuit: 'disabled' });
    expect(health.error).toContain('unavailable');
  });

  it('without a breaker retries only and never fails fast', async () => {
    const fake = flaky(createMemoryLeaseStore(systemClock));
    const store = resilientLeaseStore(fake.port, null, { retries: 0, initialDelayMs: 0, maxDelayMs: 0 });
    fake.state.down = refused();
    for (let i = 0; i < 10; i++) await expect(store.get('k')).rejects.toBeInstanceOf(DependencyUnavailableError);
    expect(fake.state.calls).toBe(10);
    fake.state.down = null;
    expect(await store.health()).toEqual({ dependency: 'lease store', ok: true, circuit: 'disabled' });
  });

  it('wraps the event bus; health reports the circuit unless given a probe', async () => {
    const fake = flaky(createMemoryEventBus());
    const breaker = createCircuitBreaker({ name: 'kafka', threshold: 1, recoveryMs: 1_000, clock: createManualClock(0) });
    const bus = resilientEventBus(fake.port, breaker, fast);
    fake.failNext(Object.assign(new Error('Connection error'), { name: 'KafkaJSConnectionError' }));
    await bus.publish('t', []);
    expect(await bus.lag('g', 't')).toBe(0);
    expect(await bus.health()).toEqual({ dependency: 'kafka', ok: true, circuit: 'closed' });
    const probed = resilientEventBus(fake.port, null, fast, { probe: () => Promise.reject(refused()) });
    expect(await probed.health()).toMatchObject({ ok: false, error: 'event bus is unavailable' });
    await bus.close();
  });

  it('routes every workflow store method through the guard', async () => {
    const fake = flaky(stubWorkflowStore());
    const store = resilientWorkflowStore(fake.port, null, { retries: 1, initialDelayMs: 0, maxDelayMs: 0 });
    const names = Object.keys(stubWorkflowStore()).filter((n) => n !== 'close') as (keyof WorkflowStore)[];
    for (const name of names) {
      fake.failNext(refused());
      await (store[name] as (...a: unknown[]) => Promise<unknown>)();
    }
    expect(fake.state.calls).toBe(names.length * 2);
  });
});

describe('toDependencyError', () => {
  it.each([
    ['ioredis closed connection', new Error('Connection is closed.')],
    ['ioredis retries exhausted', Object.assign(new Error('Reached the max retries per request limit'), { name: 'MaxRetriesPerRequestError' })],
    ['ioredis command timeout', new Error('Command timed out')],
    ['pg server shutdown', Object.assign(new Error('terminating connection'), { code: '57P01' })],
    ['pg connection failure', Object.assign(new Error('connection failure'), { code: '08006' })],
    ['pg dropped socket', new Error('Connection terminated unexpectedly')],
    ['pg-pool connect timeout', new Error('timeout exceeded when trying to connect')],
    ['socket timeout', Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT' })],
  ])('maps %s to DependencyUnavailableError', (_, error) => {
    const mapped = toDependencyError('db', error);
    expect(mapped).toBeInstanceOf(DependencyUnavailableError);
    expect((mapped as Error).cause).toBe(error);
  });

  it('leaves other errors alone', () => {
    const unique = Object.assign(new Error('duplicate key value'), { code: '23505' });
    expect(toDependencyError('db', unique)).toBe(unique);
    const conflict = new ConcurrencyConflictError('x');
    expect(toDependencyError('db', conflict)).toBe(conflict);
    const already = new DependencyUnavailableError('redis');
    expect(toDependencyError('db', already)).toBe(already);
  });
});

/** Just enough of a WorkflowStore to test the wrapper: every method answers a fixed value. */
function stubWorkflowStore(): WorkflowStore {
  return {
    migrate: async () => undefined,
    createWorkflow: async () => ({ workflow: null as never, created: false }),
    getWorkflow: async () => null,
    listWorkflows: async () => [],
    countWorkflows: async () => 0,
    countActiveWorkflows: async () => 0,
    getSubtasks: async () => [],
    getSubtask: async () => null,
    getAttempts: async () => [],
    findWaitingSubtasks: async () => [],
    findOverdueSubtasks: async () => [],
    findLongRunningSubtasks: async () => [],
    getSubtasksById: async () => [],
    getWorkflowsById: async () => [],
    findSubtasksByAgent: async () => [],
    hasProcessed: async () => false,
    readForEvent: async () => ({ processed: false, workflow: null, subtasks: null }),
    commit: async () => 'applied',
    commitClaimed: async () => ({ status: 'applied', outbox: [] }),
    pendingOutbox: async () => [],
    markPublished: async () => undefined,
    drainOutbox: async () => 0,
    unconsumedOutbox: async () => [],
    close: async () => undefined,
  };
}
