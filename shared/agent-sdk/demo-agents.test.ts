import { describe, expect, it } from 'vitest';
import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import { createManualClock } from '../adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { createIds } from '../adapters/memory/ids.js';
import { createMemoryLeaseStore } from '../adapters/memory/lease-store.memory.js';
import { defaultConfig } from '../config.js';
import { makeEvent, subtaskDispatched, topics } from '../events/index.js';
import { createDemoAgents } from './demo-agents.js';
import { silentLogger } from '../observability/logger.js';

describe('demo agents', () => {
  it('renew the leases of work in hand only: a restarted agent does not keep its predecessor’s lost work alive', async () => {
    const clock = createManualClock(1_000_000);
    const config = defaultConfig({
      ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: 1,
      ORCHESTRATION_DEMO_AGENT_DELAY_MS: 600_000,
      ORCHESTRATION_LEASE_TTL_SECONDS: 3,
    });
    const leases = createMemoryLeaseStore(clock);
    const directory = createMemoryAgentDirectory();
    const context = { clock, ids: createIds(), source: 'test' };
    const agentId = 'demo-data_analyst-1';
    const dispatched = (subtaskId: string, token: number) =>
      makeEvent(
        subtaskDispatched,
        {
          workflowId: 'wf',
          subtaskId,
          attempt: 1,
          agentId,
          leaseToken: token,
          deadline: new Date(clock.now() + 3_600_000).toISOString(),
          task: { title: 't', description: 'd', specialty: 'data_analyst', inputs: [] },
        },
        context,
      );

    const first = createDemoAgents({ bus: createMemoryEventBus(), directory, leases, context, config, logger: silentLogger });
    await first.start();
    const lost = await leases.acquire('subtask:lost', agentId, 3_000);
    await first.stop(); // the process dies with the work in hand

    const bus = createMemoryEventBus();
    const second = createDemoAgents({ bus, directory, leases, context, config, logger: silentLogger });
    await second.start();
    const held = await leases.acquire('subtask:held', agentId, 3_000);
    await bus.publish(topics.subtaskDispatched, [{ key: 'wf', event: dispatched('held', held!.token) }]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    try {
      // Renewals every third of the 3 s lease; the health heartbeat (60 s) renews the same pairs.
      for (let i = 0; i < 5; i++) {
        clock.advance(1_000);
        await (i === 4 ? second.heartbeat() : second.renewLeases());
      }
      expect(await leases.get('subtask:held')).toMatchObject({ holder: agentId, expiresAt: clock.now() + 3_000 });
      expect((await leases.get('subtask:lost'))!.expiresAt).toBe(1_000_000 + 3_000);
      expect(await leases.listExpired(clock.now(), 10)).toEqual([expect.objectContaining({ key: 'subtask:lost', token: lost!.token })]);
    } finally {
      await second.stop();
    }
  });

  it('work a redelivered dispatch once: one answer per (subtask, attempt, token)', async () => {
    const clock = createManualClock(1_000_000);
    const config = defaultConfig({ ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: 1, ORCHESTRATION_DEMO_AGENT_DELAY_MS: 0 });
    const context = { clock, ids: createIds(), source: 'test' };
    const bus = createMemoryEventBus();
    const agents = createDemoAgents({
      bus,
      directory: createMemoryAgentDirectory(),
      leases: createMemoryLeaseStore(clock),
      context,
      config,
      logger: silentLogger,
    });
    await agents.start();
    const dispatch = (attempt: number, leaseToken: number) =>
      makeEvent(
        subtaskDispatched,
        {
          workflowId: 'wf',
          subtaskId: 's1',
          attempt,
          agentId: 'demo-data_analyst-1',
          leaseToken,
          deadline: new Date(clock.now() + 60_000).toISOString(),
          task: { title: 't', description: 'd', specialty: 'data_analyst', inputs: [] },
        },
        context,
      );
    try {
      const first = dispatch(1, 7);
      // The same record twice (a redelivery), then a genuine re-dispatch under a new token.
      await bus.publish(topics.subtaskDispatched, [
        { key: 'wf', event: first },
        { key: 'wf', event: first },
        { key: 'wf', event: dispatch(2, 8) },
      ]);
      const answers = async () => (await bus.read(topics.subtaskResults)).map((d) => (d.value as { data: { attempt: number; leaseToken: number } }).data);
      for (let i = 0; i < 100 && (await answers()).length < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 50));
      expect((await answers()).map((a) => [a.attempt, a.leaseToken])).toEqual([
        [1, 7],
        [2, 8],
      ]);
    } finally {
      await agents.stop();
    }
  });
});
