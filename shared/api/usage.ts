import { z } from 'zod';
import { modelUsageSchema } from '../domain/usage.js';
import { planProvenanceSchema } from '../domain/workflow.js';

/** GET /v1/workflows/:id `usage`: what the workflow spent on models, against its budget. */
export const workflowUsageViewSchema = modelUsageSchema.extend({
  /** ORCHESTRATION_WORKFLOW_BUDGET_USD as the answering process has it; null: no limit. */
  budgetUsd: z.number().positive().nullable(),
});
export type WorkflowUsageView = z.infer<typeof workflowUsageViewSchema>;

/** GET /v1/workflows/:id `plan.provenance`: which planner made the plan, and why when it was the fallback. */
export const planProvenanceViewSchema = planProvenanceSchema;
export type PlanProvenanceView = z.infer<typeof planProvenanceViewSchema>;
