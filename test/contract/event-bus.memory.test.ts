import { setImmediate as nextMacrotask } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createMemoryEventBus } from '../../shared/adapters/memory/event-bus.memory.js';
import { createManualClock } from '../../shared/adapters/memory/clock.system.js';
import type { AnyCloudEvent } from '../../shared/events/envelope.js';
import type { Delivery } from '../../shared/ports/event-bus.port.js';
import { eventBusContract, waitFor } from './event-bus.contract.js';

eventBusContract('memory', async () => {
  const bus = createMemoryEventBus({ partitions: 6, retryDelayMs: 10 });
  return { bus, cleanup: () => bus.close() };
});

const eventOf = (seq: number): AnyCloudEvent => ({
  specversion: '1.0',
  id: `e${seq}`,
  source: 'test',
  type: 'test',
  time: '2024-01-01T00:00:00Z',
  data: { seq },
});
const seqOf = (d: Delivery): number => (d.value as { data: { seq: number } }).data.seq;

describe('memory event bus specifics', () => {
  it('delivers promptly, without polling', async () => {
    const bus = createMemoryEventBus();
    const got: number[] = [];
    await bus.subscribe({ topic: 't', groupId: 'g', handler: async (d) => void got.push(seqOf(d)) });
    await bus.publish('t', [{ key: 'k', event: eventOf(1) }]);
    await nextMacrotask();
    expect(got).toEqual([1]);
    await bus.close();
  });

  it('exports every topic in global publish order, stamped by the clock', async () => {
    const clock = createManualClock(1_000);
    const bus = createMemoryEventBus({ clock });
    await bus.publish('a', [{ key: 'x', event: eventOf(0) }]);
    clock.advance(5);
    await bus.publish('b', [{ key: 'y', event: eventOf(1) }], { h: '1' });
    await bus.publish('a', [{ key: 'z', event: eventOf(2) }]);
    const log = bus.exportLog();
    expect(log.map((r) => [r.seq, r.topic, seqOf(r)])).toEqual([
      [0, 'a', 0],
      [1, 'b', 1],
      [2, 'a', 2],
    ]);
    expect(log[1]).toMatchObject({ timestamp: 1_005, headers: { h: '1' }, key: 'y', offset: 0 });
    await bus.close();
  });

  it('keeps a key on one partition and spreads null keys round-robin', async () => {
    const bus = createMemoryEventBus({ partitions: 4 });
    await bus.publish(
      't',
      Array.from({ length: 8 }, (_, i) => ({ key: 'same', event: eventOf(i) })),
    );
    await bus.publish(
      'n',
      Array.from({ length: 8 }, (_, i) => ({ key: null as unknown as string, event: eventOf(i) })),
    );
    expect(new Set((await bus.read('t')).map((d) => d.partition)).size).toBe(1);
    const spread = (await bus.read('n')).map((d) => d.partition);
    expect(spread.sort()).toEqual([0, 0, 1, 1, 2, 2, 3, 3]);
    await bus.close();
  });

  it('retries a failing record until it succeeds, never skipping it', async () => {
    const bus = createMemoryEventBus({ retryDelayMs: 5 });
    let failures = 0;
    const done: number[] = [];
    await bus.subscribe({
      topic: 't',
      groupId: 'g',
      handler: async (d) => {
        if (seqOf(d) === 0 && failures < 3) {
          failures += 1;
          throw new Error('boom');
        }
        done.push(seqOf(d));
      },
    });
    await bus.publish(
      't',
      [0, 1].map((i) => ({ key: 'k', event: eventOf(i) })),
    );
    await waitFor(() => done.length === 2);
    expect({ failures, done }).toEqual({ failures: 3, done: [0, 1] });
    await bus.close();
  });

  it('hands a stopped member partitions to the remaining one', async () => {
    const bus = createMemoryEventBus({ partitions: 6 });
    const a: number[] = [];
    const b: number[] = [];
    const subA = await bus.subscribe({ topic: 't', groupId: 'g', handler: async (d) => void a.push(seqOf(d)) });
    await bus.subscribe({ topic: 't', groupId: 'g', handler: async (d) => void b.push(seqOf(d)) });
    await subA.stop();
    await bus.publish(
      't',
      Array.from({ length: 30 }, (_, i) => ({ key: `k${i}`, event: eventOf(i) })),
    );
    await waitFor(() => b.length === 30);
    expect(a).toEqual([]);
    expect(bus.topicsSnapshot()[0]?.groups).toEqual([{ groupId: 'g', members: 1, committed: expect.any(Array), lag: 0 }]);
    await bus.close();
  });

  it('drops records beyond the retention limit, and a lagging group resumes at the oldest kept', async () => {
    const bus = createMemoryEventBus({ partitions: 1, maxRetentionRecords: 3 });
    await bus.publish(
      't',
      Array.from({ length: 5 }, (_, i) => ({ key: 'k', event: eventOf(i) })),
    );
    expect((await bus.read('t')).map((d) => [d.offset, seqOf(d)])).toEqual([
      [2, 2],
      [3, 3],
      [4, 4],
    ]);
    const got: number[] = [];
    await bus.subscribe({ topic: 't', groupId: 'g', handler: async (d) => void got.push(seqOf(d)) });
    await waitFor(() => got.length === 3);
    expect(got).toEqual([2, 3, 4]);
    await bus.close();
  });

  it('refuses to publish once closed', async () => {
    const bus = createMemoryEventBus();
    await bus.close();
    await expect(bus.publish('t', [{ key: 'k', event: eventOf(0) }])).rejects.toMatchObject({ code: 'BUS_CLOSED' });
  });

  it('stays fast with thousands of records and several groups', async () => {
    const bus = createMemoryEventBus();
    const counts = [0, 0, 0];
    for (const [i] of counts.entries()) {
      await bus.subscribe({ topic: 't', groupId: `g${i}`, handler: async () => void (counts[i]! += 1) });
    }
    const started = performance.now();
    for (let batch = 0; batch < 20; batch += 1) {
      await bus.publish(
        't',
        Array.from({ length: 500 }, (_, i) => ({ key: `k${i % 50}`, event: eventOf(batch * 500 + i) })),
      );
    }
    await waitFor(() => counts.every((c) => c === 10_000));
    expect(performance.now() - started).toBeLessThan(3_000);
    expect(await bus.lag('g0', 't')).toBe(0);
    await bus.close();
  });
});
