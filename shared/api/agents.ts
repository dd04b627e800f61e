import { z } from 'zod';
import { specialtySchema } from '../domain/vocabulary.js';
import { subtaskCompleted, subtaskDispatched, subtaskFailed } from '../events/catalog.js';

const agentId = z.string().min(1).max(200);

/**
 * POST /v1/agents/register. Remote agents join as workers only: an EXECUTIVE agent may approve
 * workflows, so that layer is never self-declared over HTTP (executives run beside the orchestrator).
 */
export const registerAgentRequestSchema = z.strictObject({
  agentId,
  layer: z.enum(['SPECIALIST', 'EXECUTION']).default('SPECIALIST'),
  role: z.string().min(1).max(200).optional(),
  specialties: z.array(specialtySchema).max(100),
  supervisorId: agentId.optional(),
  capacity: z.number().int().min(1).max(1_000).optional(),
});
export type RegisterAgentRequest = z.input<typeof registerAgentRequestSchema>;

/**
 * POST /v1/agents/:id/heartbeat (health, every heartbeat interval) and POST /v1/agents/:id/leases
 * (renewal alone, every third of the lease TTL): the leases of the work in hand, renewed while their
 * tokens are current.
 */
export const agentHeartbeatRequestSchema = z
  .strictObject({
    working: z
      .array(z.strictObject({ subtaskId: z.string().min(1).max(200), leaseToken: z.number().int().min(1) }))
      .max(1_000)
      .default([]),
  })
  .default({ working: [] });

export const agentHeartbeatResponseSchema = z.object({
  agentId,
  renewed: z.array(z.string()),
  /** Work whose lease is gone or superseded: the agent should drop it, its report would be refused. */
  lost: z.array(z.string()),
});

/** GET /v1/agents/:id/work?waitMs= (long poll; 0 answers at once). */
export const agentWorkQuerySchema = z.object({ waitMs: z.coerce.number().int().min(0).max(60_000).default(0) });

/** One piece of work: a dispatch as the store holds it. The agent dedupes by (subtaskId, attempt, leaseToken). */
export const agentWorkItemSchema = subtaskDispatched.data.omit({ agentId: true });
export type AgentWorkItem = z.infer<typeof agentWorkItemSchema>;
export const agentWorkResponseSchema = z.object({ work: z.array(agentWorkItemSchema) });

const fenced = { subtaskId: z.string().min(1).max(200), attempt: z.number().int().min(1), leaseToken: z.number().int().min(1) };

/** POST /v1/agents/:id/results: published as subtask.completed or subtask.failed onto the results topic. */
export const agentResultRequestSchema = z.discriminatedUnion('status', [
  z.strictObject({
    status: z.literal('completed'),
    ...fenced,
    ...subtaskCompleted.data.pick({ quality: true, output: true, durationMs: true, usage: true }).shape,
  }),
  z.strictObject({ status: z.literal('failed'), ...fenced, reason: subtaskFailed.data.shape.reason.max(2_000), usage: subtaskFailed.data.shape.usage }),
]);
export type AgentResultRequest = z.infer<typeof agentResultRequestSchema>;
