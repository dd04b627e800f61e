import { describe, expect, it } from 'vitest';
import { createManualClock } from '../adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { createIds } from '../adapters/memory/ids.js';
import { makeEvent, subtaskDispatched, topics } from '../events/index.js';
import { silentLogger } from '../observability/logger.js';
import { createSubtaskInbox } from './subtask-inbox.js';

describe('subtask inbox', () => {
  it('hands a redelivered dispatch to its agent once, and every new (attempt, token) again', async () => {
    const context = { clock: createManualClock(1_000_000), ids: createIds(), source: 'test' };
    const bus = createMemoryEventBus();
    const inbox = createSubtaskInbox({ bus, groupId: 'inbox-test', logger: silentLogger, fromBeginning: true });
    const handed: [string, number, number][] = [];
    await inbox.add('agent-a', (event) => void handed.push([event.data.subtaskId, event.data.attempt, event.data.leaseToken]));
    const dispatch = (agentId: string, attempt: number, leaseToken: number) =>
      makeEvent(
        subtaskDispatched,
        {
          workflowId: 'wf',
          subtaskId: 's1',
          attempt,
          agentId,
          leaseToken,
          deadline: new Date(1_060_000).toISOString(),
          task: { title: 't', description: 'd', specialty: 'data_analyst', inputs: [] },
        },
        context,
      );
    const first = dispatch('agent-a', 1, 3);
    await bus.publish(topics.subtaskDispatched, [
      { key: 'wf', event: first },
      { key: 'wf', event: first },
      { key: 'wf', event: dispatch('agent-b', 1, 4) },
      { key: 'wf', event: dispatch('agent-a', 2, 5) },
    ]);
    for (let i = 0; i < 100 && handed.length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 5));
    await new Promise((resolve) => setTimeout(resolve, 30));
    await inbox.stop();
    expect(handed).toEqual([
      ['s1', 1, 3],
      ['s1', 2, 5],
    ]);
  });
});
