import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AnyCloudEvent } from '../../shared/events/envelope.js';
import type { Delivery, EventBus, Subscription } from '../../shared/ports/event-bus.port.js';

/** Polls until `cond` holds: a real broker delivers in tens of milliseconds, not microtasks. */
export async function waitFor(cond: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const unique = (prefix: string): string => `contract.${prefix}.${randomUUID().slice(0, 8)}`;

function eventOf(key: string, seq: number): AnyCloudEvent {
  return { specversion: '1.0', id: randomUUID(), source: 'contract', type: 'contract.test', time: new Date().toISOString(), data: { key, seq } };
}
const dataOf = (d: Delivery): { key: string; seq: number } => (d.value as { data: { key: string; seq: number } }).data;
const seqs = (ds: Delivery[]): number[] => ds.map((d) => dataOf(d).seq);

/**
 * The behaviour every EventBus adapter must show. `make` returns a bus that may be shared
 * between tests (topics and groups are unique per test); `cleanup` closes it.
 */
export interface EventBusContractOptions {
  /** Why an adapter without a retained per-topic log (SQS) cannot run the tests that need one. */
  skip?: { retainedLog?: string };
}

export function eventBusContract(name: string, make: () => Promise<{ bus: EventBus; cleanup(): Promise<void> }>, options: EventBusContractOptions = {}): void {
  const itWithLog = (title: string, fn: () => Promise<void>): void => {
    const reason = options.skip?.retainedLog;
    if (reason) it.skip(`${title} (skipped: ${reason})`, fn);
    else it(title, fn);
  };
  describe(`EventBus contract: ${name}`, () => {
    let bus: EventBus;
    let cleanup: () => Promise<void>;
    const subscriptions: Subscription[] = [];
    const publishKeyed = (topic: string, key: string, from: number, count: number) =>
      bus.publish(
        topic,
        Array.from({ length: count }, (_, i) => ({ key, event: eventOf(key, from + i) })),
      );
    const collect = async (topic: string, groupId: string, into: Delivery[], fromBeginning = true) => {
      const sub = await bus.subscribe({ topic, groupId, fromBeginning, handler: async (d) => void into.push(d) });
      subscriptions.push(sub);
      return sub;
    };

    beforeEach(async () => {
      ({ bus, cleanup } = await make());
    });
    afterEach(async () => {
      await Promise.all(subscriptions.splice(0).map((s) => s.stop()));
      await cleanup();
    });

    it('delivers a published record with its key, headers and value', async () => {
      const topic = unique('roundtrip');
      const got: Delivery[] = [];
      await collect(topic, unique('g'), got);
      const event = eventOf('k1', 1);
      await bus.publish(topic, [{ key: 'k1', event }], { traceparent: 'x' });
      await waitFor(() => got.length === 1, undefined, 'one delivery');
      expect(got[0]).toMatchObject({ topic, key: 'k1', value: event, headers: { traceparent: 'x' } });
      expect(got[0]!.offset).toBeGreaterThanOrEqual(0);
    });

    itWithLog('stores a copy: mutating the published object later changes nothing', async () => {
      const topic = unique('copy');
      const event = eventOf('k', 1);
      await bus.publish(topic, [{ key: 'k', event }]);
      (event.data as { seq: number }).seq = 99;
      const got: Delivery[] = [];
      await collect(topic, unique('g'), got);
      await waitFor(() => got.length === 1, undefined, 'one delivery');
      expect(dataOf(got[0]!).seq).toBe(1);
    });

    it('keeps per-key order while three members of one group share the partitions', async () => {
      const topic = unique('order');
      const groupId = unique('g');
      const byMember: Delivery[][] = [[], [], []];
      const inDeliveryOrder: Delivery[] = [];
      for (const into of byMember) {
        const handler = async (d: Delivery) => void (into.push(d), inDeliveryOrder.push(d));
        subscriptions.push(await bus.subscribe({ topic, groupId, handler }));
      }
      const keys = Array.from({ length: 12 }, (_, i) => `key-${i}`);
      for (let round = 0; round < 10; round += 1) {
        await bus.publish(
          topic,
          keys.map((key) => ({ key, event: eventOf(key, round) })),
        );
      }
      const distinct = () => new Set(inDeliveryOrder.map((d) => `${d.key}/${dataOf(d).seq}`)).size;
      await waitFor(() => distinct() === 120, undefined, '120 records');
      for (const key of keys) {
        // First sightings only: a real broker may redeliver around a rebalance (at-least-once).
        const firsts = [...new Set(seqs(inDeliveryOrder.filter((d) => d.key === key)))];
        expect(firsts).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      }
      expect(byMember.filter((ds) => ds.length > 0).length).toBeGreaterThanOrEqual(2);
    });

    it('gives every record to each of two groups', async () => {
      const topic = unique('fanout');
      const a: Delivery[] = [];
      const b: Delivery[] = [];
      await collect(topic, unique('ga'), a);
      await collect(topic, unique('gb'), b);
      await publishKeyed(topic, 'k', 0, 5);
      await waitFor(() => a.length >= 5 && b.length >= 5, undefined, 'both groups');
      expect(seqs(a)).toEqual([0, 1, 2, 3, 4]);
      expect(seqs(b)).toEqual([0, 1, 2, 3, 4]);
    });

    it('redelivers a record whose handler threw, and loses nothing after it', async () => {
      const topic = unique('retry');
      const attempts: number[] = [];
      const done: number[] = [];
      let thrown = false;
      const handler = async (d: Delivery) => {
        const { seq } = dataOf(d);
        attempts.push(seq);
        if (seq === 2 && !thrown) {
          thrown = true;
          throw new Error('transient');
        }
        done.push(seq);
      };
      subscriptions.push(await bus.subscribe({ topic, groupId: unique('g'), handler }));
      await publishKeyed(topic, 'k', 0, 5);
      await waitFor(() => done.length === 5, undefined, 'five successes');
      expect(done).toEqual([0, 1, 2, 3, 4]);
      expect(attempts.filter((s) => s === 2)).toHaveLength(2);
    });

    it('resumes a group after stop() at the last committed offset', async () => {
      const topic = unique('resume');
      const groupId = unique('g');
      const first: Delivery[] = [];
      const sub = await collect(topic, groupId, first);
      await publishKeyed(topic, 'k', 0, 5);
      await waitFor(() => first.length === 5, undefined, 'first five');
      await sub.stop();
      await publishKeyed(topic, 'k', 5, 5);
      const second: Delivery[] = [];
      await collect(topic, groupId, second);
      await waitFor(() => second.length >= 5, undefined, 'next five');
      await pause(200);
      expect(seqs(second)).toEqual([5, 6, 7, 8, 9]);
    });

    it('stop() lets the in-flight record finish and commits it', async () => {
      const topic = unique('inflight');
      const groupId = unique('g');
      let finished = false;
      let started = false;
      const sub = await bus.subscribe({
        topic,
        groupId,
        handler: async () => {
          started = true;
          await pause(300);
          finished = true;
        },
      });
      await publishKeyed(topic, 'k', 0, 1);
      await waitFor(() => started, undefined, 'handler start');
      await sub.stop();
      expect(finished).toBe(true);
      await publishKeyed(topic, 'k', 1, 1);
      const next: Delivery[] = [];
      await collect(topic, groupId, next);
      await waitFor(() => next.length >= 1, undefined, 'the record after');
      await pause(200);
      expect(seqs(next)).toEqual([1]);
    });

    it('starts a new group at the end when fromBeginning is false', async () => {
      const topic = unique('latest');
      await publishKeyed(topic, 'k', 0, 3);
      const got: Delivery[] = [];
      await collect(topic, unique('g'), got, false);
      await publishKeyed(topic, 'k', 3, 1);
      await waitFor(() => got.length >= 1, undefined, 'the new record');
      await pause(200);
      expect(seqs(got)).toEqual([3]);
    });

    it('counts uncommitted records as lag until the group catches up', async () => {
      const topic = unique('lag');
      const groupId = unique('g');
      let open!: () => void;
      const gate = new Promise<void>((resolve) => (open = resolve));
      subscriptions.push(await bus.subscribe({ topic, groupId, handler: () => gate }));
      await publishKeyed(topic, 'k', 0, 4);
      await waitFor(async () => (await bus.lag(groupId, topic)) === 4, undefined, 'lag 4');
      open();
      await waitFor(async () => (await bus.lag(groupId, topic)) === 0, undefined, 'lag 0');
    });

    itWithLog('reads retained records from an offset and from a time', async () => {
      const topic = unique('read');
      await publishKeyed(topic, 'k', 0, 3);
      await pause(50);
      const since = Date.now();
      await pause(50);
      await publishKeyed(topic, 'k', 3, 2);
      let all: Delivery[] = [];
      await waitFor(async () => (all = await bus.read(topic)).length === 5, undefined, 'five retained');
      expect(seqs(all)).toEqual([0, 1, 2, 3, 4]);
      const base = all[0]!.offset;
      expect(seqs(await bus.read(topic, { fromOffset: base + 3 }))).toEqual([3, 4]);
      expect(seqs(await bus.read(topic, { fromTime: since }))).toEqual([3, 4]);
    });
  });
}
