import type { z } from 'zod';
import { allSpecialties, phaseSchema, type Phase } from './vocabulary.js';

/** What the graph checks read of a plan: any planner's output, full or draft, fits. */
export interface PlanGraph {
  subtasks: readonly { id: string; specialty: string; phase: Phase; dependsOn: readonly string[] }[];
}

export interface PlanLimits {
  maxSubtasks: number;
}

export type PlanCheck<T> = { ok: true; value: T } | { ok: false; errors: string[] };

const known = new Set<string>(allSpecialties);

const phaseRank = (phase: Phase): number => phaseSchema.options.indexOf(phase);

/**
 * Every reason a plan cannot run, as sentences a model can act on: no subtasks or more than the
 * limit, duplicate ids, unknown specialties, dependencies on missing subtasks or on a subtask of the
 * same or a later phase (complete releases a subtask once its dependencies' phases have closed, so
 * such a dependency would wait for ever), cycles. Empty: valid.
 */
export function checkPlanGraph(plan: PlanGraph, limits: PlanLimits): string[] {
  const errors: string[] = [];
  const { subtasks } = plan;
  if (subtasks.length === 0) errors.push('the plan has no subtasks');
  if (subtasks.length > limits.maxSubtasks) errors.push(`too many subtasks: ${subtasks.length}, the limit is ${limits.maxSubtasks}`);
  const ids = new Set<string>();
  for (const subtask of subtasks) {
    if (ids.has(subtask.id)) errors.push(`duplicate subtask id ${JSON.stringify(subtask.id)}`);
    ids.add(subtask.id);
    if (!known.has(subtask.specialty)) errors.push(`unknown specialty ${JSON.stringify(subtask.specialty)} in subtask ${JSON.stringify(subtask.id)}`);
  }
  const byId = new Map(subtasks.map((s) => [s.id, s]));
  for (const subtask of subtasks) {
    for (const dep of subtask.dependsOn) {
      const target = byId.get(dep);
      if (!target) errors.push(`subtask ${JSON.stringify(subtask.id)} depends on unknown subtask ${JSON.stringify(dep)}`);
      else if (dep !== subtask.id && phaseRank(target.phase) >= phaseRank(subtask.phase)) {
        errors.push(
          `subtask ${JSON.stringify(subtask.id)} (${subtask.phase}) depends on ${JSON.stringify(dep)} (${target.phase}): a dependency must be in an earlier phase`,
        );
      }
    }
  }
  const cycle = findCycle(subtasks);
  if (cycle) errors.push(`dependency cycle: ${cycle.join(' → ')}`);
  return errors;
}

/** One dependency cycle as the ids along it, first id repeated at the end; null when the graph is acyclic. */
export function findCycle(subtasks: PlanGraph['subtasks']): string[] | null {
  const edges = new Map(subtasks.map((s) => [s.id, s.dependsOn]));
  const state = new Map<string, 'open' | 'done'>();
  const path: string[] = [];
  const visit = (id: string): string[] | null => {
    if (state.get(id) === 'done' || !edges.has(id)) return null;
    if (state.get(id) === 'open') return [...path.slice(path.indexOf(id)), id];
    state.set(id, 'open');
    path.push(id);
    for (const dep of edges.get(id) ?? []) {
      const found = visit(dep);
      if (found) return found;
    }
    path.pop();
    state.set(id, 'done');
    return null;
  };
  for (const { id } of subtasks) {
    const found = visit(id);
    // Reported in the direction work flows (a dependency before its dependent).
    if (found) return found.reverse();
  }
  return null;
}

/** Subtasks ordered so each comes after its dependencies, otherwise keeping their order; the graph must be acyclic. */
export function topologicalOrder<T extends PlanGraph['subtasks'][number]>(subtasks: readonly T[]): T[] {
  const placed = new Set<string>();
  const ordered: T[] = [];
  let remaining = [...subtasks];
  while (remaining.length > 0) {
    const next = remaining.filter((s) => s.dependsOn.every((dep) => placed.has(dep)));
    if (next.length === 0) throw new Error('topologicalOrder needs an acyclic plan');
    for (const subtask of next) placed.add(subtask.id);
    ordered.push(...next);
    remaining = remaining.filter((s) => !placed.has(s.id));
  }
  return ordered;
}

/**
 * A model's answer checked in full: JSON, then the schema (`path: message` per issue), then the graph.
 * The errors are what a repair prompt lists.
 */
export function parsePlanAnswer<T extends PlanGraph>(schema: z.ZodType<T>, text: string, limits: PlanLimits): PlanCheck<T> {
  let json: unknown;
  try {
    json = JSON.parse(stripFence(text));
  } catch (error) {
    return { ok: false, errors: [`the answer is not valid JSON (${error instanceof Error ? error.message : String(error)})`] };
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    return { ok: false, errors: parsed.error.issues.map((issue) => `${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`) };
  const errors = checkPlanGraph(parsed.data, limits);
  return errors.length === 0 ? { ok: true, value: parsed.data } : { ok: false, errors };
}

/** Models without structured output often wrap JSON in a markdown fence. */
const stripFence = (text: string): string => text.trim().replace(/^```(?:json)?\s*\n([\s\S]*?)\n?```$/, '$1');
