import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../shared/config.js';
import type { Plan } from '../../shared/domain/workflow.js';
import { planTask } from './planner.js';
import { plannerCases } from './planner-table.data.js';
import { ancestorsOf, expectDescriptiveTitles, expectValidDag, longestPathMinutes, simulateRelease } from './plan-checks.test-util.js';

const plan = (description: string, maxSubtasks = defaultConfig().ORCHESTRATION_MAX_SUBTASKS): Plan => planTask({ workflowId: 'wf', description, maxSubtasks });

describe('the planner against a table of requests', () => {
  it('has at least 40 varied requests', () => {
    expect(plannerCases.length).toBeGreaterThanOrEqual(40);
    expect(new Set(plannerCases.map((c) => c.request)).size).toBe(plannerCases.length);
    for (const level of ['SIMPLE', 'MODERATE', 'COMPLEX', 'ENTERPRISE', 'INVESTIGATION'] as const) {
      expect(plannerCases.some((c) => c.complexity.length === 1 && c.complexity[0] === level)).toBe(true);
    }
  });

  it.each(plannerCases.map((c) => [c.request, c] as const))('%s', (_, c) => {
    const p = plan(c.request);
    expect(c.complexity).toContain(p.complexity);
    expect(p.requiredSpecialists).toEqual(expect.arrayContaining([...c.required]));
    if (c.approval !== undefined) expect(p.approvalRequired).toBe(c.approval);
    expectValidDag(p);
    expectDescriptiveTitles(p);
    expect(p.subtasks.length).toBeLessThanOrEqual(defaultConfig().ORCHESTRATION_MAX_SUBTASKS);
    // Independent research branches run in parallel: no research subtask waits for another.
    const research = new Set(p.subtasks.filter((s) => s.phase === 'research').map((s) => s.id));
    for (const s of p.subtasks) if (research.has(s.id)) expect(s.dependsOn).toEqual([]);
    // Nothing is left dangling: every working subtask reaches the final delivery.
    const delivery = p.subtasks.find((s) => s.specialty === 'final_delivery_approver');
    if (delivery) {
      const upstream = ancestorsOf(p).get(delivery.id)!;
      expect(p.subtasks.filter((s) => s.id !== delivery.id).every((s) => upstream.has(s.id))).toBe(true);
    }
    expect(plan(c.request)).toEqual(p);
  });

  it.each([1, 2, 4, 8])('stays a valid, descriptive DAG at maxSubtasks = %d', (maxSubtasks) => {
    for (const c of plannerCases) {
      const p = plan(c.request, maxSubtasks);
      expect(p.subtasks.length).toBeLessThanOrEqual(maxSubtasks);
      expectValidDag(p);
      expectDescriptiveTitles(p);
    }
  });

  it('runs parallel work in parallel: over the table, the critical path is well under the sum of the work', () => {
    let critical = 0;
    let sum = 0;
    for (const c of plannerCases) {
      const p = plan(c.request);
      critical += longestPathMinutes(p.subtasks);
      sum += p.subtasks.reduce((total, s) => total + s.estimatedMinutes, 0);
      // The phase-closing release rule never stretches a plan past its critical path by more than the phase barriers allow.
      expect(simulateRelease(p)).toBeGreaterThanOrEqual(longestPathMinutes(p.subtasks));
    }
    expect(critical / sum).toBeLessThan(0.75);
  });
});
