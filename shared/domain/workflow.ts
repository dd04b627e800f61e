import { z } from 'zod';
import {
  complexitySchema,
  phaseSchema,
  prioritySchema,
  qualityGateNameSchema,
  riskLevelSchema,
  specialtySchema,
  subtaskStatusSchema,
  workflowStatusSchema,
} from './vocabulary.js';
import { modelUsageSchema } from './usage.js';

export const qualityGateSchema = z.object({
  name: qualityGateNameSchema,
  phase: phaseSchema,
  threshold: z.number().min(0).max(1),
});
export type QualityGate = z.infer<typeof qualityGateSchema>;

/** A planned unit of work, before it is stored. */
export const plannedSubtaskSchema = z.object({
  id: z.string().min(1),
  title: z.string().min(1),
  description: z.string(),
  specialty: specialtySchema,
  phase: phaseSchema,
  estimatedMinutes: z.number().positive(),
  priority: z.number().int().min(1).max(10),
  dependsOn: z.array(z.string()),
  successCriteria: z.array(z.string()),
  qualityCheckpoints: z.array(z.string()),
  reviewRequired: z.boolean(),
});
export type PlannedSubtask = z.infer<typeof plannedSubtaskSchema>;

/** Which planner produced a plan and, when the LLM planner's plan was not used, why. */
export const planProvenanceSchema = z.object({
  planner: z.enum(['llm', 'deterministic']),
  /** The model that wrote the plan (planner llm). */
  model: z.string().optional(),
  /** The first answer was invalid and the model's corrected one is the plan. */
  repaired: z.boolean().optional(),
  /** Why the LLM planner's plan was not used (timeout, model error, still invalid after one repair). */
  fallbackReason: z.string().optional(),
  /** What planning spent on the model, whichever planner's plan was kept. */
  usage: modelUsageSchema.optional(),
});
export type PlanProvenance = z.infer<typeof planProvenanceSchema>;

export const planSchema = z.object({
  complexity: complexitySchema,
  confidence: z.number().min(0).max(1),
  patterns: z.array(z.string()),
  subtasks: z.array(plannedSubtaskSchema),
  phases: z.array(z.object({ phase: phaseSchema, subtaskIds: z.array(z.string()) })),
  estimatedHours: z.number().nonnegative(),
  estimatedCost: z.number().nonnegative(),
  requiredSpecialists: z.array(specialtySchema),
  qualityGates: z.array(qualityGateSchema),
  risk: riskLevelSchema,
  approvalRequired: z.boolean(),
  /** Absent on plans from before the LLM planner existed: those are deterministic. */
  provenance: planProvenanceSchema.optional(),
});
export type Plan = z.infer<typeof planSchema>;

export const workflowSchema = z.object({
  id: z.string(),
  description: z.string(),
  priority: prioritySchema,
  /** Who the workflow belongs to: scheduling shares capacity fairly between tenants. */
  tenant: z.string().min(1),
  metadata: z.record(z.string(), z.unknown()),
  idempotencyKey: z.string().nullable(),
  status: workflowStatusSchema,
  complexity: complexitySchema.nullable(),
  plan: planSchema.nullable(),
  failureReason: z.string().nullable(),
  /** Tokens and cost spent on models for this workflow (planner and agents): ORCHESTRATION_WORKFLOW_BUDGET_USD caps it. */
  usage: modelUsageSchema,
  version: z.number().int(),
  createdAt: z.string(),
  updatedAt: z.string(),
  completedAt: z.string().nullable(),
});
export type Workflow = z.infer<typeof workflowSchema>;

export const subtaskSchema = plannedSubtaskSchema.extend({
  workflowId: z.string(),
  status: subtaskStatusSchema,
  assignedAgent: z.string().nullable(),
  attempts: z.number().int().nonnegative(),
  leaseToken: z.number().int().nullable(),
  deadline: z.string().nullable(),
  quality: z.number().nullable(),
  output: z.unknown(),
  lastError: z.string().nullable(),
  version: z.number().int(),
  updatedAt: z.string(),
});
export type Subtask = z.infer<typeof subtaskSchema>;

/** Fields a transition may change; id and workflow never move. */
export type WorkflowPatch = Partial<Pick<Workflow, 'status' | 'complexity' | 'plan' | 'failureReason' | 'completedAt' | 'usage'>>;
export type SubtaskPatch = Partial<Pick<Subtask, 'status' | 'assignedAgent' | 'attempts' | 'leaseToken' | 'deadline' | 'quality' | 'output' | 'lastError'>>;
