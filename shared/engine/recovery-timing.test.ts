import { describe, expect, it } from 'vitest';
import { topics, type OrchestrationEvent } from '../events/index.js';
import { startEmbedded } from '../../test/unit/helpers/embedded.js';
import { createMetrics } from '../observability/metrics.js';
import { carryLoss, lostAtOf, observeRecovery } from './recovery-timing.js';
import { recoveryIntervalMs } from './recovery.js';
import { defaultConfig } from '../config.js';
import { leaseTtlMs } from '../domain/protocol.js';

const at = (iso: string) => ({ specversion: '1.0' as const, source: 'test', time: iso, id: `e-${iso}` });
const failed = (cause: string): OrchestrationEvent =>
  ({
    ...at('2030-01-01T00:00:05.000Z'),
    type: 'subtask.failed',
    data: { workflowId: 'wf', subtaskId: 's1', attempt: 1, agentId: 'a', leaseToken: 1, reason: 'x', cause },
  }) as OrchestrationEvent;
const ready = (subtaskId: string): { type: string; data: unknown; lostat?: string } => ({
  ...at('2030-01-01T00:00:06.000Z'),
  type: 'subtask.ready',
  data: { workflowId: 'wf', subtaskId },
});
const recoveryCount = async (metrics: ReturnType<typeof createMetrics>) =>
  (await metrics.recoveryDuration.get()).values.find((v) => v.metricName?.endsWith('_count'))?.value ?? 0;

describe('recovery timing', () => {
  it('starts at the loss: a lease expiry, a deadline or a lost agent, not an agent error', () => {
    expect(lostAtOf({ ...failed('lease_expired'), lostat: '2030-01-01T00:00:03.000Z' })).toBe('2030-01-01T00:00:03.000Z');
    expect(lostAtOf(failed('agent_lost'))).toBe('2030-01-01T00:00:05.000Z');
    expect(lostAtOf(failed('agent_error'))).toBeUndefined();
  });

  it('travels only on the events that re-drive the same subtask', () => {
    const cause = { ...failed('lease_expired'), lostat: '2030-01-01T00:00:03.000Z' };
    expect(carryLoss(cause, ready('s1')).lostat).toBe('2030-01-01T00:00:03.000Z');
    expect(carryLoss(cause, ready('s2'))).not.toHaveProperty('lostat');
    expect(carryLoss(failed('agent_error'), ready('s1'))).not.toHaveProperty('lostat');
  });

  it('is observed once dispatch sends the next attempt', async () => {
    const metrics = createMetrics();
    const assigned = {
      ...at('2030-01-01T00:00:07.000Z'),
      type: 'subtask.assigned',
      lostat: '2030-01-01T00:00:03.000Z',
      data: {},
    } as unknown as OrchestrationEvent;
    observeRecovery(metrics, assigned, [], Date.parse('2030-01-01T00:00:08.000Z'));
    expect(await recoveryCount(metrics)).toBe(0);
    observeRecovery(metrics, assigned, [{ type: 'subtask.dispatched' }], Date.parse('2030-01-01T00:00:08.000Z'));
    expect(await recoveryCount(metrics)).toBe(1);
    expect((await metrics.recoveryDuration.get()).values.find((v) => v.metricName?.endsWith('_sum'))?.value).toBe(5);
  });

  it('at default settings re-dispatches a killed agent work within the lease TTL plus one recovery interval (< 10 s), timed from its lease expiry', async () => {
    const defaults = defaultConfig();
    const bound = leaseTtlMs(defaults) + recoveryIntervalMs(defaults);
    expect(defaults.ORCHESTRATION_HEARTBEAT_INTERVAL).toBe(60); // health reports stay rare; leases do not wait for them
    expect(bound).toBeLessThan(10_000);
    // Lease and heartbeat settings at their defaults; the demo agent works long enough to be killed mid-work.
    const e = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '1500' });
    try {
      const { body } = await e.post<{ workflowId: string }>('/v1/tasks', { description: 'quick simple one fact' });
      let victim: { agentId: string; leaseToken: number } | undefined;
      while (!victim) {
        const dispatched = (await e.bus.read(topics.subtaskDispatched))
          .map((d) => d.value as OrchestrationEvent)
          .find((ev) => ev.type === 'subtask.dispatched' && ev.data.workflowId === body.workflowId);
        if (dispatched?.type === 'subtask.dispatched') victim = dispatched.data;
        else await new Promise((resolve) => setTimeout(resolve, 20));
      }
      e.runtime.demoAgents!.kill(victim.agentId);
      const killedAt = Date.now();
      expect((await e.settle(body.workflowId, 30_000)).status).toBe('completed');
      const redispatched = (await e.bus.read(topics.subtaskDispatched))
        .map((d) => d.value as OrchestrationEvent)
        .filter((ev) => ev.type === 'subtask.dispatched' && ev.data.workflowId === body.workflowId && ev.lostat);
      expect(redispatched).toHaveLength(1);
      // From the kill: the lease (taken at dispatch, before the kill) runs out within its TTL; then one recovery wake-up and a hop.
      expect(Date.parse(redispatched[0]!.time) - killedAt).toBeLessThan(bound);
      expect(await recoveryCount(e.runtime.metrics)).toBe(1);
      const seconds = (await e.runtime.metrics.recoveryDuration.get()).values.find((v) => v.metricName?.endsWith('_sum'))!.value;
      // Re-queue, assign and dispatch after the expiry take far less than a second here.
      expect(seconds).toBeGreaterThan(0);
      expect(seconds).toBeLessThan(1);
      expect(Date.parse(redispatched[0]!.time) - Date.parse(redispatched[0]!.lostat!)).toBeCloseTo(seconds * 1000, -2);
    } finally {
      await e.stop();
    }
  }, 60_000);
});
