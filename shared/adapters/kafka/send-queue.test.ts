import { describe, expect, it } from 'vitest';
import type { TopicMessages } from 'kafkajs';
import { createSendQueue } from './send-queue.js';

const msg = (value: string) => ({ key: 'k', value });

describe('createSendQueue', () => {
  it('sends what queued up behind a request in flight as one request, in publish order per topic', async () => {
    const requests: TopicMessages[][] = [];
    let release!: () => void;
    const send = createSendQueue(async (topicMessages) => {
      requests.push(topicMessages);
      if (requests.length === 1) await new Promise<void>((resolve) => (release = resolve));
    });
    const first = send('a', [msg('1')]);
    const rest = [send('a', [msg('2')]), send('b', [msg('x')]), send('a', [msg('3'), msg('4')])];
    release();
    await Promise.all([first, ...rest]);
    expect(requests).toHaveLength(2);
    expect(requests[1]).toEqual([
      { topic: 'a', messages: [msg('2'), msg('3'), msg('4')] },
      { topic: 'b', messages: [msg('x')] },
    ]);
  });

  it('rejects every publish of a failed request, and keeps sending after it', async () => {
    let calls = 0;
    let release!: () => void;
    const send = createSendQueue(async () => {
      calls += 1;
      if (calls === 1) await new Promise<void>((resolve) => (release = resolve));
      if (calls === 2) throw new Error('broker down');
    });
    const first = send('a', [msg('1')]);
    const failed = [send('a', [msg('2')]), send('a', [msg('3')])];
    release();
    await first;
    for (const f of failed) await expect(f).rejects.toThrow('broker down');
    await send('a', [msg('4')]);
    expect(calls).toBe(3);
  });
});
