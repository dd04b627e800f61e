import { describe, expect, it, vi } from 'vitest';
import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import { createManualClock } from '../adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { createIds } from '../adapters/memory/ids.js';
import { createMemoryLeaseStore } from '../adapters/memory/lease-store.memory.js';
import { defaultConfig } from '../config.js';
import { makeEvent, subtaskDispatched, topics } from '../events/index.js';
import { createDemoAgents, demoHierarchy } from './demo-agents.js';
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
    const leases = createMemoryLeaseStore(clock);
    const agentId = 'demo-data_analyst-1';
    const agents = createDemoAgents({ bus, directory: createMemoryAgentDirectory(), leases, context, config, logger: silentLogger });
    await agents.start();
    const dispatch = (attempt: number, leaseToken: number) =>
      makeEvent(
        subtaskDispatched,
        {
          workflowId: 'wf',
          subtaskId: 's1',
          attempt,
          agentId,
          leaseToken,
          deadline: new Date(clock.now() + 60_000).toISOString(),
          task: { title: 't', description: 'd', specialty: 'data_analyst', inputs: [] },
        },
        context,
      );
    const answers = async () =>
      (await bus.read(topics.subtaskResults)).map((d) => d.value as { data: { attempt: number; leaseToken: number; output: unknown; quality: number } });
    const settle = async (count: number) => {
      for (let i = 0; i < 100 && (await answers()).length < count; i++) await new Promise((resolve) => setTimeout(resolve, 10));
      await new Promise((resolve) => setTimeout(resolve, 50));
    };
    try {
      const first = await leases.acquire('subtask:s1', agentId, 60_000);
      const event = dispatch(1, first!.token);
      // The same record twice (a redelivery), then a genuine re-dispatch under a new token.
      await bus.publish(topics.subtaskDispatched, [
        { key: 'wf', event },
        { key: 'wf', event },
      ]);
      await settle(1);
      await leases.release('subtask:s1', first!.token);
      const second = await leases.acquire('subtask:s1', agentId, 60_000);
      await bus.publish(topics.subtaskDispatched, [{ key: 'wf', event: dispatch(2, second!.token) }]);
      await settle(2);
      expect((await answers()).map((a) => [a.data.attempt, a.data.leaseToken])).toEqual([
        [1, first!.token],
        [2, second!.token],
      ]);
      expect((await answers())[0]!.data).toMatchObject({
        quality: config.ORCHESTRATION_DEMO_AGENT_QUALITY,
        output: { demo: true, agent: agentId, summary: '[demo] data_analyst output for "t"', inputs: 0 },
      });
    } finally {
      await agents.stop();
    }
  });

  it('are SDK agents registered as demo ones, sharing one inbox subscription per process', async () => {
    const clock = createManualClock(1_000_000);
    const config = defaultConfig({ ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: 1 });
    const bus = createMemoryEventBus();
    const subscribe = vi.spyOn(bus, 'subscribe');
    const directory = createMemoryAgentDirectory();
    const agents = createDemoAgents({
      bus,
      directory,
      leases: createMemoryLeaseStore(clock),
      context: { clock, ids: createIds(), source: 'test' },
      config,
      logger: silentLogger,
      instance: 'a',
    });
    await agents.start();
    try {
      expect(subscribe.mock.calls.map(([s]) => [s.groupId, s.topic])).toEqual([['amas-demo-agents-a', topics.subtaskDispatched]]);
      expect(agents.agentIds()).toEqual(demoHierarchy(1, 'a').map((a) => a.id));
      expect(await directory.get('demo-a-data_analyst-1')).toMatchObject({ demo: true, capacity: 3, supervisorId: 'demo-a-analysis_team_lead' });
      const registered = (await bus.read(topics.agents)).map((d) => d.value as { type: string; data: { demo: boolean } });
      expect(registered).toHaveLength(agents.agentIds().length);
      expect(registered.every((e) => e.type === 'agent.registered' && e.data.demo)).toBe(true);
    } finally {
      await agents.stop();
    }
  });

  it('take ORCHESTRATION_MAX_TASKS_PER_AGENT tasks at once as specialists (3 by default); leads keep 10', () => {
    const byDefault = demoHierarchy(1);
    expect(byDefault.find((a) => a.id === 'demo-data_analyst-1')?.capacity).toBe(3);
    const wide = demoHierarchy(2, 'b', 25);
    expect(wide.filter((a) => a.layer === 'SPECIALIST').every((a) => a.capacity === 25)).toBe(true);
    expect(wide.find((a) => a.id === 'demo-b-analysis_team_lead')?.capacity).toBe(10);
  });

  it('stop without answering the work in hand, which their leases give back', async () => {
    const clock = createManualClock(1_000_000);
    const config = defaultConfig({ ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: 1, ORCHESTRATION_DEMO_AGENT_DELAY_MS: 600_000 });
    const context = { clock, ids: createIds(), source: 'test' };
    const bus = createMemoryEventBus();
    const leases = createMemoryLeaseStore(clock);
    const directory = createMemoryAgentDirectory();
    const agentId = 'demo-data_analyst-1';
    const agents = createDemoAgents({ bus, directory, leases, context, config, logger: silentLogger });
    await agents.start();
    const lease = await leases.acquire('subtask:s1', agentId, 60_000);
    await bus.publish(topics.subtaskDispatched, [
      {
        key: 'wf',
        event: makeEvent(
          subtaskDispatched,
          {
            workflowId: 'wf',
            subtaskId: 's1',
            attempt: 1,
            agentId,
            leaseToken: lease!.token,
            deadline: new Date(clock.now() + 3_600_000).toISOString(),
            task: { title: 't', description: 'd', specialty: 'data_analyst', inputs: [] },
          },
          context,
        ),
      },
    ]);
    await new Promise((resolve) => setTimeout(resolve, 50));
    await agents.stop(); // returns although the work had 600 s to go
    expect(await bus.read(topics.subtaskResults)).toEqual([]);
    expect((await directory.get(agentId))?.status).toBe('OFFLINE');
  });
});
