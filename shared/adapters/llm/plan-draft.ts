import { z } from 'zod';
import { criticalPathMinutes, hourlyRate, qualityGates } from '../../../functions/index.js';
import { topologicalOrder } from '../../domain/plan-validation.js';
import { groupOf, phaseSchema, specialtySchema, type Phase } from '../../domain/vocabulary.js';
import { planSchema, plannedSubtaskSchema, type Plan, type PlannedSubtask, type PlanProvenance } from '../../domain/workflow.js';
import type { PlanRequest } from '../../ports/planner.port.js';

/**
 * What the model is asked for: the plan schema's own fields, reduced to what needs judgement. The
 * rest (ids, priorities, phases list, hours, cost, gates) is derived here, deterministically.
 */
export const planDraftSchema = planSchema.pick({ complexity: true, confidence: true, risk: true, approvalRequired: true }).extend({
  subtasks: z.array(
    plannedSubtaskSchema
      .pick({ id: true, title: true, description: true, phase: true, dependsOn: true, estimatedMinutes: true, successCriteria: true })
      .extend({
        // The same 30 values, with a message a repair prompt can act on.
        specialty: z.enum(specialtySchema.options, { error: (issue) => `unknown specialty ${JSON.stringify(issue.input)}` }),
      }),
  ),
});
export type PlanDraft = z.infer<typeof planDraftSchema>;

/**
 * The structured-output schema sent with every planning call, derived from the zod schema above.
 * String lengths are left out: OpenAI's strict mode refuses those keywords, and zod checks them on the answer anyway.
 */
export const planDraftJsonSchema = withoutKeys(z.toJSONSchema(planDraftSchema), new Set(['$schema', 'minLength', 'maxLength'])) as Record<string, unknown>;

const phaseOrder = phaseSchema.options;
/** Earlier phases unblock more work: they go first when agents are scarce. */
const phasePriority: Record<Phase, number> = { research: 8, analysis: 7, production: 6, qa: 5, delivery: 4 };
const round2 = (value: number): number => Math.round(value * 100) / 100;

/** The full plan from a validated draft: ids become `<workflowId>.sN` in dependency order. */
export function planFromDraft(draft: PlanDraft, request: PlanRequest, provenance: PlanProvenance): Plan {
  const ordered = topologicalOrder(draft.subtasks);
  const idOf = new Map(ordered.map((s, index) => [s.id, `${request.workflowId}.s${index + 1}`]));
  const newId = (id: string): string => idOf.get(id) ?? id;
  const subtasks: PlannedSubtask[] = ordered.map((s) => ({
    id: newId(s.id),
    title: s.title,
    description: s.description,
    specialty: s.specialty,
    phase: s.phase,
    estimatedMinutes: s.estimatedMinutes,
    priority: phasePriority[s.phase],
    dependsOn: s.dependsOn.map(newId),
    successCriteria: s.successCriteria,
    qualityCheckpoints: s.successCriteria.map((criterion) => `Checked: ${criterion}`),
    reviewRequired: ordered.length > 1 && (s.phase === 'research' || s.phase === 'analysis' || s.phase === 'production'),
  }));
  const estimatedHours = round2(criticalPathMinutes(subtasks) / 60);
  const estimatedCost = round2(subtasks.reduce((sum, s) => sum + (s.estimatedMinutes / 60) * hourlyRate[groupOf(s.specialty)], 0));
  return {
    complexity: draft.complexity,
    confidence: draft.confidence,
    patterns: [],
    subtasks,
    phases: phaseOrder
      .map((phase) => ({ phase, subtaskIds: subtasks.filter((s) => s.phase === phase).map((s) => s.id) }))
      .filter((entry) => entry.subtaskIds.length > 0),
    estimatedHours,
    estimatedCost,
    requiredSpecialists: [...new Set(subtasks.map((s) => s.specialty))],
    qualityGates: qualityGates(draft.complexity, subtasks),
    risk: draft.risk,
    // The model may ask for approval; it may not waive what the spec's rule requires.
    approvalRequired:
      draft.approvalRequired ||
      estimatedCost > 15 ||
      estimatedHours > 12 ||
      draft.risk === 'high' ||
      draft.risk === 'critical' ||
      draft.complexity === 'INVESTIGATION',
    provenance,
  };
}

function withoutKeys(value: unknown, drop: ReadonlySet<string>): unknown {
  if (Array.isArray(value)) return value.map((item) => withoutKeys(item, drop));
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value)
      .filter(([key]) => !drop.has(key))
      .map(([key, item]) => [key, withoutKeys(item, drop)]),
  );
}
