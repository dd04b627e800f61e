import { describe, expect, it } from 'vitest';
import { handleInBatches, runKeyChains } from './key-chains.js';

const record = (key: string, offset: number) => ({ key: Buffer.from(key), offset: String(offset) });
const tick = () => new Promise((resolve) => setTimeout(resolve, 1));

describe('runKeyChains', () => {
  it('keeps each key in order, runs keys at once, and resolves only a fully handled prefix', async () => {
    const records = [record('a', 0), record('b', 1), record('a', 2), record('c', 3), record('b', 4)];
    const handled: string[] = [];
    const resolved: string[] = [];
    let running = 0;
    let peak = 0;
    await runKeyChains(records, {
      concurrency: 3,
      proceed: () => true,
      resolve: (offset) => resolved.push(offset),
      handle: async (r) => {
        running += 1;
        peak = Math.max(peak, running);
        // Key a is slow: b and c finish first, yet offsets resolve in order.
        for (let i = 0; i < (r.key.toString() === 'a' ? 5 : 1); i++) await tick();
        handled.push(`${r.key.toString()}${r.offset}`);
        running -= 1;
      },
    });
    expect(handled.filter((h) => h.startsWith('a'))).toEqual(['a0', 'a2']);
    expect(handled.filter((h) => h.startsWith('b'))).toEqual(['b1', 'b4']);
    expect(peak).toBe(3);
    expect(resolved.map(Number)).toEqual([...resolved.map(Number)].sort((x, y) => x - y));
    expect(resolved.at(-1)).toBe('4');
  });

  it('stops every chain after a failure, resolves nothing past it, and rethrows', async () => {
    const records = [record('a', 0), record('a', 1), record('a', 2), record('b', 3), record('b', 4)];
    const handled: string[] = [];
    const resolved: string[] = [];
    const failure = runKeyChains(records, {
      concurrency: 2,
      proceed: () => true,
      resolve: (offset) => resolved.push(offset),
      handle: async (r) => {
        await tick();
        if (r.offset === '1') throw new Error('boom');
        handled.push(r.offset);
      },
    });
    await expect(failure).rejects.toThrow('boom');
    expect(handled).not.toContain('2');
    expect(resolved.every((offset) => Number(offset) < 1)).toBe(true);
  });

  it('starts nothing once told to stop', async () => {
    const handled: string[] = [];
    let go = true;
    await runKeyChains([record('a', 0), record('a', 1), record('b', 2)], {
      concurrency: 1,
      proceed: () => go,
      resolve: () => undefined,
      handle: async (r) => {
        handled.push(r.offset);
        go = false;
      },
    });
    expect(handled).toEqual(['0']);
  });
});

describe('handleInBatches', () => {
  const records = ['a', 'a', 'b', 'c', 'a', 'd', 'e'].map((key, offset) => ({ key: Buffer.from(key), offset: String(offset) }));

  it('slices in offset order by records and by different keys, resolving each slice once handled', async () => {
    const slices: string[][] = [];
    const resolved: string[] = [];
    await handleInBatches(records, {
      maxRecords: 4,
      maxKeys: 2,
      handle: async (slice) => void slices.push(slice.map((r) => `${r.key.toString()}${r.offset}`)),
      resolve: (offset) => resolved.push(offset),
      proceed: () => true,
    });
    expect(slices).toEqual([
      ['a0', 'a1', 'b2'],
      ['c3', 'a4'],
      ['d5', 'e6'],
    ]);
    expect(resolved).toEqual(['2', '4', '6']);
  });

  it('stops at a throwing slice and rethrows, resolving nothing of it', async () => {
    const resolved: string[] = [];
    const failing = handleInBatches(records, {
      maxRecords: 3,
      maxKeys: 10,
      handle: async (slice) => {
        if (slice[0]?.offset === '3') throw new Error('boom');
      },
      resolve: (offset) => resolved.push(offset),
      proceed: () => true,
    });
    await expect(failing).rejects.toThrow('boom');
    expect(resolved).toEqual(['2']);
  });
});
