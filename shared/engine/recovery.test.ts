import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import { createMemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { createIds } from '../adapters/memory/ids.js';
import { createMemoryLeaseStore } from '../adapters/memory/lease-store.memory.js';
import { defaultConfig } from '../config.js';
import { topics, type OrchestrationEvent } from '../events/index.js';
import type { Clock, LeaseStore, WorkflowStore } from '../ports/index.js';
import { silentLogger } from '../observability/logger.js';
import { createRecoveryLoop } from './recovery.js';

const T0 = 1_800_000_000_000;
const clock: Clock = { now: () => Date.now() }; // faked below, with the timers

/** A lease of 1.5 s on subtask s1, in progress, and a loop ticking every second. */
async function setup(options: { withoutNextExpiry?: boolean } = {}) {
  const memory = createMemoryLeaseStore(clock);
  const lease = (await memory.acquire('subtask:s1', 'agent-x', 1_500))!;
  const leases: LeaseStore = options.withoutNextExpiry ? { ...memory, nextExpiry: undefined } : memory;
  // The loop only reads the workflow store: one subtask, in progress under the lease.
  const subtask = { id: 's1', workflowId: 'wf', status: 'in_progress', attempts: 1, leaseToken: lease.token, assignedAgent: 'agent-x' };
  const store = {
    getSubtask: async () => subtask,
    findOverdueSubtasks: async () => [],
    findLongRunningSubtasks: async () => [],
    getSubtasksById: async () => [],
    getWorkflowsById: async () => [],
    findWaitingSubtasks: async () => [],
  } as unknown as WorkflowStore;
  const bus = createMemoryEventBus({ clock });
  const loop = createRecoveryLoop({
    store,
    leases,
    bus,
    directory: createMemoryAgentDirectory({ maxTasksPerAgent: 3 }),
    context: { clock, ids: createIds(), source: 'amas/test' },
    config: defaultConfig({ ORCHESTRATION_HEARTBEAT_INTERVAL: 4 }),
    logger: silentLogger,
    intervalMs: 1_000,
  });
  const failures = async () => (await bus.read(topics.subtaskResults)).map((d) => d.value as OrchestrationEvent).filter((e) => e.type === 'subtask.failed');
  return { loop, lease, failures };
}

describe('recovery loop wake-ups', () => {
  beforeEach(() => void vi.useFakeTimers({ now: T0 }));
  afterEach(() => void vi.useRealTimers());

  it('reports a lost lease when it expires, not at the next tick', async () => {
    const { loop, lease, failures } = await setup();
    loop.start();
    await vi.advanceTimersByTimeAsync(1_000); // first tick: nothing expired yet; the wake-up is set for T0 + 1.5 s
    expect(await failures()).toEqual([]);
    await vi.advanceTimersByTimeAsync(510);
    const [failed] = await failures();
    expect(failed).toMatchObject({ data: { subtaskId: 's1', leaseToken: lease.token, cause: 'lease_expired' } });
    expect(Date.parse(failed!.time) - lease.expiresAt).toBeLessThanOrEqual(10);
    // The loss time travels on, for the recovery duration observed at the re-dispatch.
    expect(failed!.lostat).toBe(new Date(lease.expiresAt).toISOString());
    await loop.stop();
  });

  it('polls every interval when the lease store cannot tell the next expiry', async () => {
    const { loop, failures } = await setup({ withoutNextExpiry: true });
    loop.start();
    await vi.advanceTimersByTimeAsync(1_510);
    expect(await failures()).toEqual([]);
    await vi.advanceTimersByTimeAsync(500); // the tick at T0 + 2 s
    expect(await failures()).toHaveLength(1);
    await loop.stop();
  });
});
