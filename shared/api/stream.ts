import { z } from 'zod';
import { subtaskStatusSchema, workflowStatusSchema } from '../domain/vocabulary.js';
import { allTopics } from '../events/topics.js';

/**
 * A position in the state-change feed: `<txid>-<seq>` of the change's writing transaction and row.
 * Clients hand it back as `Last-Event-ID` (or `?after=`) to resume where they stopped.
 */
export const changeCursorSchema = z.string().regex(/^\d{1,20}-\d{1,20}$/, 'a cursor is <txid>-<seq>, as sent in an event id');

/** One committed state change of a workflow or of one of its subtasks, as the streams send it. */
export const stateChangeSchema = z.object({
  cursor: changeCursorSchema,
  at: z.string(),
  workflowId: z.string(),
  kind: z.enum(['workflow', 'subtask']),
  subtaskId: z.string().nullable(),
  status: z.union([workflowStatusSchema, subtaskStatusSchema]),
  previousStatus: z.union([workflowStatusSchema, subtaskStatusSchema]).nullable(),
  agentId: z.string().nullable(),
  attempt: z.number().int().nullable(),
  quality: z.number().nullable(),
  error: z.string().nullable(),
});
export type StateChangeRecord = z.infer<typeof stateChangeSchema>;

/** GET /v1/workflows/:id/events and GET /v1/events query; `Last-Event-ID` takes precedence. */
export const streamQuerySchema = z.strictObject({ after: changeCursorSchema.optional() });

/** GET /v1/dead-letters query. */
export const deadLetterQuerySchema = z.strictObject({
  /** An orchestration topic, with or without its `.dlq` suffix. */
  topic: z
    .string()
    .transform((t) => t.replace(/\.dlq$/, ''))
    .refine((t) => (allTopics as readonly string[]).includes(t), { message: `not an orchestration topic (${allTopics.join(', ')})` })
    .optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(200),
});
export const deadLetterIdParamSchema = z.object({ id: z.string().min(1).max(300) });
