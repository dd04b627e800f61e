import { z } from 'zod';

/** Where one attempt of a subtask stands: reserved an agent, running under a lease, or ended. */
export const attemptStatusSchema = z.enum(['assigned', 'running', 'completed', 'failed', 'cancelled']);

/** One attempt of a subtask (the `subtask_attempts` rows migration 9's trigger writes). */
export const subtaskAttemptSchema = z.object({
  subtaskId: z.string(),
  attempt: z.number().int().min(1),
  agentId: z.string().nullable(),
  /** The fencing token of its lease; null until dispatched. */
  leaseToken: z.number().int().nullable(),
  status: attemptStatusSchema,
  quality: z.number().nullable(),
  /** Why it failed or was cancelled. */
  error: z.string().nullable(),
  /** Why this attempt ran again (the previous attempt's failure, or the quality gate that sent it back); null for the first. */
  reason: z.string().nullable(),
  assignedAt: z.string().nullable(),
  startedAt: z.string().nullable(),
  endedAt: z.string().nullable(),
  /** From dispatch to result. */
  durationMs: z.number().nullable(),
});
export type SubtaskAttempt = z.infer<typeof subtaskAttemptSchema>;

/** GET /v1/workflows/:id/attempts and GET /v1/workflows/:id/subtasks/:subtaskId/attempts. */
export const attemptsResponseSchema = z.object({
  workflowId: z.string(),
  /** Present when the answer is one subtask's. */
  subtaskId: z.string().optional(),
  attempts: z.array(subtaskAttemptSchema),
});
export type AttemptsResponse = z.infer<typeof attemptsResponseSchema>;

export const subtaskParamsSchema = z.object({ id: z.string().min(1).max(200), subtaskId: z.string().min(1).max(200) });
