import { z } from 'zod';
import { phaseSchema, specialtySchema, subtaskStatusSchema, workflowStatusSchema } from '../domain/vocabulary.js';

/**
 * GET /v1/workflows/:id/lineage: which subtask produced which output, by which agent and attempt,
 * and what each subtask was given. Node ids are `<kind>:<key>`; edges point from the dependent:
 * subtask DEPENDS_ON subtask, subtask PRODUCED output, output PRODUCED_BY agent, subtask PART_OF workflow.
 */
export const lineageNodeSchema = z.discriminatedUnion('kind', [
  z.object({ id: z.string(), kind: z.literal('workflow'), workflowId: z.string(), status: workflowStatusSchema }),
  z.object({
    id: z.string(),
    kind: z.literal('subtask'),
    subtaskId: z.string(),
    title: z.string(),
    specialty: specialtySchema,
    phase: phaseSchema,
    status: subtaskStatusSchema,
    attempts: z.number().int().nonnegative(),
  }),
  z.object({
    id: z.string(),
    kind: z.literal('output'),
    /** `<subtaskId>#<attempt>`: the attempt's entry in GET /v1/workflows/:id/subtasks/:subtaskId/attempts. */
    ref: z.string(),
    subtaskId: z.string(),
    attempt: z.number().int().min(1),
    agentId: z.string(),
    /** Whether it passed the quality threshold. */
    accepted: z.boolean(),
    quality: z.number(),
    durationMs: z.number(),
    at: z.string(),
  }),
  z.object({ id: z.string(), kind: z.literal('agent'), agentId: z.string() }),
]);
export type LineageNode = z.infer<typeof lineageNodeSchema>;

export const lineageEdgeSchema = z.object({
  type: z.enum(['PART_OF', 'DEPENDS_ON', 'PRODUCED', 'PRODUCED_BY']),
  from: z.string(),
  to: z.string(),
});
export type LineageEdge = z.infer<typeof lineageEdgeSchema>;

export const lineageResponseSchema = z.object({
  workflowId: z.string(),
  /** Where the outputs come from: the agent graph, or (a directory without lineage) the attempt history. */
  source: z.enum(['graph', 'attempts']),
  nodes: z.array(lineageNodeSchema),
  edges: z.array(lineageEdgeSchema),
});
export type LineageResponse = z.infer<typeof lineageResponseSchema>;
