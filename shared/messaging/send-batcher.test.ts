import { describe, expect, it } from 'vitest';
import type { OutgoingMessage } from '../ports/index.js';
import { createSendBatcher } from './send-batcher.js';

const record = (key: string): OutgoingMessage => ({
  key,
  event: { specversion: '1.0', id: key, source: 's', type: 't', time: '2026-01-01T00:00:00Z', data: {} },
});

function recorder() {
  const calls: { topic: string; keys: string[] }[] = [];
  const gates: (() => void)[] = [];
  let hold = false;
  let fail: Error | undefined;
  const publish = async (topic: string, messages: OutgoingMessage[]) => {
    calls.push({ topic, keys: messages.map((m) => m.key) });
    if (hold) await new Promise<void>((resolve) => gates.push(resolve));
    if (fail) throw fail;
  };
  return {
    calls,
    publish,
    holdPublishes: (on: boolean) => void (hold = on),
    releaseOne: () => gates.shift()?.(),
    failWith: (error: Error | undefined) => void (fail = error),
  };
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('send batcher', () => {
  it('coalesces the sends of one tick into one publish per topic', async () => {
    const r = recorder();
    const batcher = createSendBatcher({ publish: r.publish, order: ['high', 'low'] });
    await Promise.all([...['a', 'b', 'c'].map((k) => batcher.send('low', record(k), 10)), ...['x', 'y'].map((k) => batcher.send('high', record(k), 10))]);
    expect(r.calls).toEqual([
      { topic: 'high', keys: ['x', 'y'] },
      { topic: 'low', keys: ['a', 'b', 'c'] },
    ]);
  });

  it('queues what arrives while a topic is publishing, and a higher band goes out without waiting for it', async () => {
    const r = recorder();
    const batcher = createSendBatcher({ publish: r.publish, order: ['critical', 'low'] });
    r.holdPublishes(true);
    const first = batcher.send('low', record('l1'), 10);
    await turn();
    const queued = [batcher.send('low', record('l2'), 10), batcher.send('low', record('l3'), 10)];
    const critical = batcher.send('critical', record('c1'), 10);
    await turn();
    expect(r.calls.map((c) => c.keys)).toEqual([['l1'], ['c1']]);
    r.releaseOne(); // l1
    r.releaseOne(); // c1
    await Promise.all([first, critical]);
    await turn();
    expect(r.calls.map((c) => c.keys)).toEqual([['l1'], ['c1'], ['l2', 'l3']]);
    r.holdPublishes(false);
    r.releaseOne();
    await Promise.all(queued);
  });

  it('splits by record count and by estimated bytes', async () => {
    const r = recorder();
    const batcher = createSendBatcher({ publish: r.publish, order: ['t'], maxRecords: 3, maxBytes: 100 });
    await Promise.all(['a', 'b', 'c', 'd', 'e'].map((k) => batcher.send('t', record(k), 10)));
    await Promise.all(['big1', 'big2', 'small'].map((k) => batcher.send('t', record(k), k === 'small' ? 10 : 60)));
    expect(r.calls.map((c) => c.keys)).toEqual([['a', 'b', 'c'], ['d', 'e'], ['big1'], ['big2', 'small']]);
  });

  it('rejects exactly the senders of a failed publish, and keeps sending afterwards', async () => {
    const r = recorder();
    const batcher = createSendBatcher({ publish: r.publish, order: ['t'] });
    r.failWith(new Error('broker down'));
    const failed = await Promise.allSettled(['a', 'b'].map((k) => batcher.send('t', record(k), 10)));
    expect(failed.map((f) => f.status)).toEqual(['rejected', 'rejected']);
    r.failWith(undefined);
    await expect(batcher.send('t', record('c'), 10)).resolves.toBeUndefined();
    expect(r.calls.map((c) => c.keys)).toEqual([['a', 'b'], ['c']]);
  });
});
