import { describe, expect, it } from 'vitest';
import { createCoalescer, type Settled } from './coalesce.js';

const deferred = <T>() => {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => (resolve = r));
  return { promise, resolve };
};

describe('createCoalescer', () => {
  it('sends the calls of one turn as one batch and settles each with its own outcome', async () => {
    const batches: number[][] = [];
    const call = createCoalescer<number, number>({
      maxItems: 10,
      maxInFlight: 1,
      run: async (items) => {
        batches.push(items);
        return items.map((n): Settled<number> => (n < 0 ? { ok: false, error: new Error(`negative ${n}`) } : { ok: true, value: n * 2 }));
      },
    });
    const outcomes = await Promise.allSettled([call(1), call(-2), call(3)]);
    expect(batches).toEqual([[1, -2, 3]]);
    expect(outcomes).toEqual([
      { status: 'fulfilled', value: 2 },
      { status: 'rejected', reason: new Error('negative -2') },
      { status: 'fulfilled', value: 6 },
    ]);
  });

  it('gathers what arrives while every slot is busy into the next batch, in call order, at most maxItems each', async () => {
    const batches: number[][] = [];
    const gates: ReturnType<typeof deferred<void>>[] = [];
    const call = createCoalescer<number, number>({
      maxItems: 3,
      maxInFlight: 1,
      run: async (items) => {
        batches.push(items);
        const gate = deferred<void>();
        gates.push(gate);
        await gate.promise;
        return items.map((value) => ({ ok: true, value }));
      },
    });
    const first = call(0);
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[0]]);
    const later = [1, 2, 3, 4].map((n) => call(n));
    await new Promise((r) => setImmediate(r));
    expect(batches).toHaveLength(1); // the one slot is busy
    gates[0]!.resolve();
    await first;
    await new Promise((r) => setImmediate(r));
    expect(batches).toEqual([[0], [1, 2, 3]]);
    gates[1]!.resolve();
    await new Promise((r) => setImmediate(r));
    gates[2]!.resolve();
    expect(await Promise.all(later)).toEqual([1, 2, 3, 4]);
    expect(batches).toEqual([[0], [1, 2, 3], [4]]);
  });

  it('runs up to maxInFlight batches at once', async () => {
    let running = 0;
    let most = 0;
    const call = createCoalescer<number, number>({
      maxItems: 1,
      maxInFlight: 2,
      run: async (items) => {
        running += 1;
        most = Math.max(most, running);
        await new Promise((r) => setTimeout(r, 5));
        running -= 1;
        return items.map((value) => ({ ok: true, value }));
      },
    });
    expect(await Promise.all([1, 2, 3, 4, 5].map((n) => call(n)))).toEqual([1, 2, 3, 4, 5]);
    expect(most).toBe(2);
  });

  it('fails every call of a batch whose runner throws, and keeps serving later calls', async () => {
    let fail = true;
    const call = createCoalescer<number, number>({
      maxItems: 10,
      maxInFlight: 1,
      run: async (items) => {
        if (fail) throw new Error('connection lost');
        return items.map((value) => ({ ok: true, value }));
      },
    });
    const outcomes = await Promise.allSettled([call(1), call(2)]);
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected']);
    fail = false;
    expect(await call(3)).toBe(3);
  });

  it('rejects the calls a runner left without an outcome', async () => {
    const call = createCoalescer<number, number>({ maxItems: 10, maxInFlight: 1, run: async () => [{ ok: true, value: 1 }] });
    const outcomes = await Promise.allSettled([call(1), call(2)]);
    expect(outcomes[0]).toEqual({ status: 'fulfilled', value: 1 });
    expect(outcomes[1]?.status).toBe('rejected');
  });
});
