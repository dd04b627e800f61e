import { describe, expect, it } from 'vitest';
import type { Effect } from '../ports/index.js';
import { createMetrics } from '../observability/metrics.js';
import { runEffects } from './effects.js';

describe('runEffects', () => {
  it('runs every effect in order; one that fails is logged and counted, and the rest still run', async () => {
    const ran: string[] = [];
    const warned: unknown[] = [];
    const metrics = createMetrics();
    const ports = {
      leases: {
        release: async (key: string) => {
          ran.push(`lease ${key}`);
          throw new Error('redis is down');
        },
      },
      directory: {
        release: async (agentId: string, workKey: string) => void ran.push(`slot ${agentId} ${workKey}`),
        recordWork: async (agentId: string, subtaskId: string) => (ran.push(`work ${agentId} ${subtaskId}`), true),
      },
    };
    const logger = { warn: (message: string, fields: unknown) => warned.push([message, fields]) } as never;
    const outcome = { success: true, quality: 1, durationMs: 5 };
    const effects: Effect[] = [
      { kind: 'releaseLease', key: 'subtask:s1', token: 3 },
      { kind: 'releaseSlot', agentId: 'a1', workKey: 's1#1', outcome },
      { kind: 'recordWork', agentId: 'a1', subtaskId: 's1', workflowId: 'wf', outcome, at: 0 },
    ];

    await expect(runEffects(effects, ports, { logger, metrics })).resolves.toBe(1);
    expect(ran).toEqual(['lease subtask:s1', 'slot a1 s1#1', 'work a1 s1']);
    expect(warned).toEqual([['a post-commit effect failed', { effect: 'releaseLease', key: 'subtask:s1', token: 3, error: 'redis is down' }]]);
    expect((await metrics.effectsFailed.get()).values).toEqual([{ value: 1, labels: { effect: 'releaseLease' } }]);
  });
});
