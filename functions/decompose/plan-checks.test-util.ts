import { expect } from 'vitest';
import { groupOf, phaseSchema } from '../../shared/domain/vocabulary.js';
import { planSchema, type Plan, type PlannedSubtask } from '../../shared/domain/workflow.js';

/** Invariants every deterministic plan keeps, shared by the planner's tests. */

const phaseRank = (phase: string): number => phaseSchema.options.indexOf(phase as never);

/** Ancestors of every subtask (the subtasks it transitively waits for), by id; throws on a cycle. */
export function ancestorsOf(plan: Plan): Map<string, Set<string>> {
  const byId = new Map(plan.subtasks.map((s) => [s.id, s]));
  const result = new Map<string, Set<string>>();
  const visiting = new Set<string>();
  const visit = (id: string): Set<string> => {
    const known = result.get(id);
    if (known) return known;
    if (visiting.has(id)) throw new Error(`cycle through ${id}`);
    visiting.add(id);
    const all = new Set<string>();
    for (const dep of byId.get(id)?.dependsOn ?? []) for (const a of [dep, ...visit(dep)]) all.add(a);
    visiting.delete(id);
    result.set(id, all);
    return all;
  };
  for (const s of plan.subtasks) visit(s.id);
  return result;
}

/** Longest path of minutes, computed independently of subtask order. */
export function longestPathMinutes(subtasks: readonly PlannedSubtask[]): number {
  const byId = new Map(subtasks.map((s) => [s.id, s]));
  const memo = new Map<string, number>();
  const finish = (id: string): number => {
    const cached = memo.get(id);
    if (cached !== undefined) return cached;
    const s = byId.get(id)!;
    const value = s.estimatedMinutes + Math.max(0, ...s.dependsOn.map(finish));
    memo.set(id, value);
    return value;
  };
  return Math.max(0, ...subtasks.map((s) => finish(s.id)));
}

/**
 * Runs the plan under the complete handler's release rule (functions/complete/handler.ts,
 * releaseDependents): roots start at once; a pending subtask starts when every dependency is completed
 * and every dependency's phase is closed. Unlimited agents, each subtask takes its estimate.
 * Returns the makespan in minutes, or null when the rule leaves subtasks waiting forever.
 */
export function simulateRelease(plan: Plan): number | null {
  const finish = new Map<string, number>();
  const started = new Map<string, number>();
  for (const s of plan.subtasks) if (s.dependsOn.length === 0) started.set(s.id, 0);
  const phaseClosedAt = (phase: string): number | undefined => {
    const members = plan.subtasks.filter((s) => s.phase === phase);
    return members.every((s) => finish.has(s.id)) ? Math.max(...members.map((s) => finish.get(s.id)!)) : undefined;
  };
  for (;;) {
    const running = [...started].filter(([id]) => !finish.has(id));
    if (running.length === 0) break;
    const [id, start] = running.reduce((a, b) => (a[1] + est(plan, a[0]) <= b[1] + est(plan, b[0]) ? a : b));
    const now = start + est(plan, id);
    finish.set(id, now);
    for (const s of plan.subtasks) {
      if (started.has(s.id)) continue;
      const ready = s.dependsOn.every((dep) => finish.has(dep) && phaseClosedAt(plan.subtasks.find((d) => d.id === dep)!.phase) !== undefined);
      if (ready) started.set(s.id, now);
    }
  }
  return finish.size === plan.subtasks.length ? Math.max(0, ...finish.values()) : null;
}
const est = (plan: Plan, id: string): number => plan.subtasks.find((s) => s.id === id)!.estimatedMinutes;

export function expectValidDag(plan: Plan): void {
  expect(() => planSchema.parse(plan)).not.toThrow();
  const ids = plan.subtasks.map((s) => s.id);
  expect(new Set(ids).size).toBe(ids.length);
  const byId = new Map(plan.subtasks.map((s) => [s.id, s]));
  const ancestors = ancestorsOf(plan); // throws on a cycle
  for (const s of plan.subtasks) {
    expect(s.dependsOn).not.toContain(s.id);
    expect(new Set(s.dependsOn).size).toBe(s.dependsOn.length);
    for (const dep of s.dependsOn) {
      expect(byId.has(dep)).toBe(true);
      expect(ids.indexOf(dep)).toBeLessThan(ids.indexOf(s.id)); // ids are in topological order
      // Strictly earlier phase: the release rule waits for a dependency's phase to close, so a same-phase edge deadlocks.
      expect(phaseRank(byId.get(dep)!.phase)).toBeLessThan(phaseRank(s.phase));
      // Transitively reduced: no edge that another path already implies.
      expect(s.dependsOn.some((other) => other !== dep && ancestors.get(other)!.has(dep))).toBe(false);
    }
  }
  // phases: in order, non-empty, each subtask listed once under its own phase
  const ranks = plan.phases.map((entry) => phaseRank(entry.phase));
  expect(ranks).toEqual([...ranks].sort((a, b) => a - b));
  expect(new Set(ranks).size).toBe(ranks.length);
  for (const entry of plan.phases) {
    expect(entry.subtaskIds.length).toBeGreaterThan(0);
    for (const id of entry.subtaskIds) expect(byId.get(id)?.phase).toBe(entry.phase);
  }
  expect(plan.phases.flatMap((entry) => entry.subtaskIds).sort()).toEqual([...ids].sort());
  expect(new Set(plan.requiredSpecialists)).toEqual(new Set(plan.subtasks.map((s) => s.specialty)));
  expect(plan.requiredSpecialists.length).toBe(new Set(plan.requiredSpecialists).size);
  for (const gate of plan.qualityGates) expect(plan.phases.map((entry) => entry.phase)).toContain(gate.phase);
  expect(plan.approvalRequired).toBe(
    plan.estimatedCost > 15 || plan.estimatedHours > 12 || plan.risk === 'high' || plan.risk === 'critical' || plan.complexity === 'INVESTIGATION',
  );
  expect(Math.abs(plan.estimatedHours - longestPathMinutes(plan.subtasks) / 60)).toBeLessThanOrEqual(0.005 + 1e-9);
  expect(simulateRelease(plan)).not.toBeNull();
}

/** Generic or machine-made titles the planner must never produce. */
export function expectDescriptiveTitles(plan: Plan): void {
  const titles = plan.subtasks.map((s) => s.title);
  expect(new Set(titles).size).toBe(titles.length);
  for (const s of plan.subtasks) {
    expect(s.title).not.toMatch(/general request|supporting work|\(|\)/i);
    expect(s.title.toLowerCase()).not.toMatch(new RegExp(`\\b${s.specialty.replaceAll('_', ' ')}\\b`));
    expect(s.title).toMatch(/^[A-Z][^:]{8,}: \S/);
    expect(groupOf(s.specialty)).toBeTruthy();
  }
}
