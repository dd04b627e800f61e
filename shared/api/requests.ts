import { z } from 'zod';
import { prioritySchema, workflowStatusSchema } from '../domain/vocabulary.js';
import { approvalStages } from '../domain/approval.js';

/** POST /v1/tasks. Priority is accepted in either case ("high" or "HIGH"). */
export const submitTaskRequestSchema = z.strictObject({
  description: z.string().trim().min(1, 'description must not be empty').max(10_000),
  priority: z
    .string()
    .transform((p) => p.toUpperCase())
    .pipe(prioritySchema)
    .default('NORMAL'),
  metadata: z.record(z.string(), z.unknown()).default({}),
  idempotencyKey: z.string().min(1).max(200).optional(),
  requireApproval: z.boolean().default(false),
});
export type SubmitTaskRequest = z.infer<typeof submitTaskRequestSchema>;

/** GET /v1/workflows query. */
export const listWorkflowsQuerySchema = z.object({
  status: workflowStatusSchema.optional(),
  limit: z.coerce.number().int().min(1).max(500).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const workflowIdParamSchema = z.object({ id: z.string().min(1).max(200) });

/** POST /v1/workflows/:id/cancel body (optional). */
export const cancelRequestSchema = z.strictObject({ reason: z.string().min(1).max(1_000).optional() }).default({});

/** POST /v1/workflows/:id/approve and /reject body (optional): `stage` names the decision meant (plan or delivery). */
export const decisionRequestSchema = z.strictObject({ reason: z.string().min(1).max(1_000).optional(), stage: z.enum(approvalStages).optional() }).default({});
