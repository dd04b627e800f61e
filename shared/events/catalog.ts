import { z } from 'zod';
import { defineEvent } from './envelope.js';
import { agentStatusSchema, complexitySchema, layerSchema, messageTypeSchema, prioritySchema, riskLevelSchema, specialtySchema } from '../domain/vocabulary.js';
import { modelUsageSchema } from '../domain/usage.js';
import { approvalStages } from '../domain/approval.js';

const workflowId = z.string().min(1);
const subtaskId = z.string().min(1);
const agentId = z.string().min(1);
const attempt = z.number().int().min(1);
const leaseToken = z.number().int().min(1);

export const taskSubmitted = defineEvent(
  'task.submitted',
  z.object({
    workflowId,
    description: z.string().min(1).max(10_000),
    priority: prioritySchema,
    metadata: z.record(z.string(), z.unknown()),
    requireApproval: z.boolean(),
  }),
);

export const workflowDecomposed = defineEvent(
  'workflow.decomposed',
  z.object({
    workflowId,
    complexity: complexitySchema,
    confidence: z.number().min(0).max(1),
    subtaskIds: z.array(subtaskId),
    estimatedHours: z.number().nonnegative(),
    risk: riskLevelSchema,
    approvalRequired: z.boolean(),
  }),
);

/**
 * What dispatch sends the agent and bounds its deadline with, for a subtask that depends on nothing
 * (one with dependencies needs their outputs, and dispatch reads them).
 */
export const carriedTask = z.object({
  title: z.string(),
  description: z.string(),
  successCriteria: z.array(z.string()),
  estimatedMinutes: z.number().positive(),
  workflowCreatedAt: z.string(),
});
export type CarriedTask = z.infer<typeof carriedTask>;

/**
 * What assign decides on, as its producer's commit wrote it (ORCHESTRATION_EVENT_SNAPSHOTS): the
 * subtask's row version and its workflow's tenant. Assign then runs without a read; its commit checks
 * that version (and that the workflow still runs), and on a conflict assign reads and runs again.
 */
export const carriedReadyState = z.object({
  subtaskVersion: z.number().int(),
  tenant: z.string().min(1),
  /** The work itself, for a subtask without dependencies: assign passes it on and dispatch needs no read. */
  task: carriedTask.optional(),
});
export type CarriedReadyState = z.infer<typeof carriedReadyState>;

/** What dispatch decides on, as assign's commit wrote it: the subtask's row version and its task. */
export const carriedAssignedState = z.object({ subtaskVersion: z.number().int(), task: carriedTask });
export type CarriedAssignedState = z.infer<typeof carriedAssignedState>;

export const subtaskReady = defineEvent(
  'subtask.ready',
  z.object({
    workflowId,
    subtaskId,
    specialty: specialtySchema,
    attempt,
    excludeAgents: z.array(agentId),
    carried: carriedReadyState.optional(),
  }),
);

export const subtaskAssigned = defineEvent(
  'subtask.assigned',
  z.object({
    workflowId,
    subtaskId,
    specialty: specialtySchema,
    attempt,
    agentId,
    /** The specialty group's management lead consulted for the assignment (absent: none registered). */
    leadId: agentId.optional(),
    carried: carriedAssignedState.optional(),
  }),
);

export const subtaskDispatched = defineEvent(
  'subtask.dispatched',
  z.object({
    workflowId,
    subtaskId,
    attempt,
    agentId,
    leaseToken,
    deadline: z.iso.datetime({ offset: true }),
    task: z.object({
      title: z.string(),
      description: z.string(),
      specialty: specialtySchema,
      inputs: z.array(z.object({ subtaskId, output: z.unknown() })),
      /** The plan's criteria for this subtask (absent in events dispatched before they were sent). */
      successCriteria: z.array(z.string()).optional(),
    }),
  }),
);

export const subtaskCompleted = defineEvent(
  'subtask.completed',
  z.object({
    workflowId,
    subtaskId,
    attempt,
    agentId,
    leaseToken,
    quality: z.number().min(0).max(1),
    output: z.unknown(),
    durationMs: z.number().nonnegative(),
    /** What the agent spent on a model for this result: added to the workflow's usage and budget. */
    usage: modelUsageSchema.optional(),
  }),
);

export const subtaskFailed = defineEvent(
  'subtask.failed',
  z.object({
    workflowId,
    subtaskId,
    attempt,
    agentId,
    leaseToken,
    reason: z.string().min(1),
    /** timeout and lease expiry are reported by the recovery loop rather than the agent */
    cause: z.enum(['agent_error', 'timeout', 'lease_expired', 'agent_lost']),
    usage: modelUsageSchema.optional(),
  }),
);

export const workflowCompleted = defineEvent(
  'workflow.completed',
  z.object({ workflowId, subtaskCount: z.number().int(), averageQuality: z.number().min(0).max(1) }),
);

export const workflowFailed = defineEvent('workflow.failed', z.object({ workflowId, reason: z.string(), failedSubtaskId: subtaskId.optional() }));

export const workflowCancelled = defineEvent('workflow.cancelled', z.object({ workflowId, reason: z.string(), cancelledSubtaskIds: z.array(subtaskId) }));

/**
 * A user's command on a workflow (POST /v1/workflows/:id/<command>). Its CloudEvent id is the command's
 * idempotency key: a repeated command is absorbed like any redelivered event.
 */
export const workflowCommandRequested = defineEvent(
  'workflow.command.requested',
  z.object({
    workflowId,
    command: z.enum(['cancel', 'pause', 'resume', 'approve', 'reject']),
    reason: z.string().min(1).max(1_000).optional(),
    /** approve / reject: the approval this decision is meant for. */
    stage: z.enum(approvalStages).optional(),
    /** Who asked (the principal's subject), for the record. */
    requestedBy: z.string().min(1).optional(),
  }),
);

export const agentRegistered = defineEvent(
  'agent.registered',
  z.object({
    agentId,
    layer: layerSchema,
    role: z.string().optional(),
    specialties: z.array(specialtySchema),
    supervisorId: agentId.optional(),
    capacity: z.number().int().min(1),
    demo: z.boolean(),
    /** Absent: the agent is shared by every tenant (see servesTenant). */
    tenant: z.string().min(1).optional(),
  }),
);

export const agentHeartbeat = defineEvent('agent.heartbeat', z.object({ agentId, status: agentStatusSchema, load: z.number().int().nonnegative() }));

export const agentLost = defineEvent('agent.lost', z.object({ agentId, reason: z.string(), subtaskIds: z.array(subtaskId) }));

export const agentMessage = defineEvent(
  'agent.message',
  z.object({
    messageId: z.string().min(1),
    senderId: agentId,
    recipientId: agentId.optional(),
    team: z.string().min(1).optional(),
    broadcast: z.boolean().optional(),
    messageType: messageTypeSchema,
    priority: prioritySchema,
    payload: z.record(z.string(), z.unknown()),
    correlationId: z.string().optional(),
    sentAt: z.iso.datetime({ offset: true }),
    /** The broadcast topic, when broadcast. */
    topic: z.string().min(1).optional(),
    /** The sender's HMAC over the signed fields. */
    signature: z.string().min(1).optional(),
    /** When the message stops being worth delivering (sentAt + its priority's response timeout). */
    expiresAt: z.iso.datetime({ offset: true }).optional(),
  }),
);

export const eventDefinitions = [
  taskSubmitted,
  workflowDecomposed,
  subtaskReady,
  subtaskAssigned,
  subtaskDispatched,
  subtaskCompleted,
  subtaskFailed,
  workflowCompleted,
  workflowFailed,
  workflowCancelled,
  workflowCommandRequested,
  agentRegistered,
  agentHeartbeat,
  agentLost,
  agentMessage,
] as const;

type Definitions = typeof eventDefinitions;
export type EventType = Definitions[number]['type'];

export const orchestrationEventSchema = z.discriminatedUnion('type', [
  taskSubmitted.schema,
  workflowDecomposed.schema,
  subtaskReady.schema,
  subtaskAssigned.schema,
  subtaskDispatched.schema,
  subtaskCompleted.schema,
  subtaskFailed.schema,
  workflowCompleted.schema,
  workflowFailed.schema,
  workflowCancelled.schema,
  workflowCommandRequested.schema,
  agentRegistered.schema,
  agentHeartbeat.schema,
  agentLost.schema,
  agentMessage.schema,
]);
export type OrchestrationEvent = z.infer<typeof orchestrationEventSchema>;
export type EventOf<T extends EventType> = Extract<OrchestrationEvent, { type: T }>;
export type DataOf<T extends EventType> = EventOf<T>['data'];
