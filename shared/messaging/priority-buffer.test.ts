import { describe, expect, it } from 'vitest';
import { createPriorityBuffer } from './priority-buffer.js';

describe('priority buffer', () => {
  it('drains highest first and gives a freed slot to the highest waiting priority', async () => {
    const handled: string[] = [];
    let release!: () => void;
    let gate = new Promise<void>((r) => (release = r));
    const buffer = createPriorityBuffer<string>({
      maxSize: 2,
      handle: async (item) => {
        handled.push(item);
        await gate;
      },
    });
    await buffer.push('NORMAL', 'n0'); // taken at once: in flight
    await buffer.push('LOW', 'l1');
    await buffer.push('LOW', 'l2'); // full now
    const pushedLow = buffer.push('LOW', 'l3');
    const pushedCritical = buffer.push('CRITICAL', 'c1');
    expect(buffer.queued()).toBe(2);
    gate = Promise.resolve();
    release();
    await Promise.all([pushedLow, pushedCritical]);
    await buffer.idle();
    // l1 was already next when the first slot freed; that slot went to c1, ahead of l3 which waited longer.
    expect(handled).toEqual(['n0', 'l1', 'c1', 'l2', 'l3']);
  });
});
