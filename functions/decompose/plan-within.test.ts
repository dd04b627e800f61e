import { describe, expect, it } from 'vitest';
import { DependencyUnavailableError, PlanningError } from '../../shared/errors.js';
import type { Planner } from '../../shared/ports/planner.port.js';
import { deterministicPlanner, planTask } from './planner.js';
import { planWithin } from './plan-within.js';

const request = { workflowId: 'wf_1', description: 'Research AI market trends and create presentation', maxSubtasks: 20 };
const rejecting = (error: unknown): Planner => ({ plan: () => Promise.reject(error) });

describe('planWithin: expected planning failures are values', () => {
  it('returns the plan when it fits', async () => {
    const result = await planWithin(deterministicPlanner, request, 5);
    expect(result.ok && result.plan.subtasks.length).toBeGreaterThan(0);
  });

  it('returns EMPTY_PLAN and PLAN_TOO_LARGE without throwing', async () => {
    const empty: Planner = { plan: (r) => Promise.resolve({ ...planTask(r), subtasks: [] }) };
    expect(await planWithin(empty, request, 5)).toEqual({ ok: false, code: 'EMPTY_PLAN', reason: 'decomposition failed: the planner produced no subtasks' });
    const ignoresLimit: Planner = { plan: (r) => Promise.resolve(planTask({ ...r, maxSubtasks: 20 })) };
    const tooLarge = await planWithin(ignoresLimit, { ...request, maxSubtasks: 1 }, 5);
    expect(tooLarge).toMatchObject({ ok: false, code: 'PLAN_TOO_LARGE', reason: expect.stringMatching(/limit is 1$/) as string });
  });

  it('returns a PlanningError with what it spent, and an unclassified error by its message', async () => {
    const usage = { inputTokens: 10, outputTokens: 5, costUsd: 0.01 };
    expect(await planWithin(rejecting(new PlanningError('no valid plan', usage)), request, 5)).toEqual({
      ok: false,
      code: 'PLANNING_FAILED',
      reason: 'decomposition failed: no valid plan',
      usage,
    });
    expect(await planWithin(rejecting(new Error('boom')), request, 5)).toEqual({ ok: false, code: 'UNCLASSIFIED', reason: 'decomposition failed: boom' });
  });

  it('returns DECOMPOSITION_TIMEOUT and aborts the planner at the deadline', async () => {
    let signal: AbortSignal | undefined;
    const stuck: Planner = {
      plan: (r) => {
        signal = r.signal;
        return new Promise(() => undefined);
      },
    };
    expect(await planWithin(stuck, request, 0.02)).toEqual({
      ok: false,
      code: 'DECOMPOSITION_TIMEOUT',
      reason: 'decomposition failed: decomposition took longer than 0.02s',
    });
    expect(signal?.aborted).toBe(true);
  });

  it('throws a retriable error, so the delivery is retried rather than the workflow failed', async () => {
    await expect(planWithin(rejecting(new DependencyUnavailableError('model')), request, 5)).rejects.toBeInstanceOf(DependencyUnavailableError);
  });
});
