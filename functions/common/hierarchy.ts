import { agentMessage, isoTime } from '../../shared/events/index.js';
import type { DataOf } from '../../shared/events/index.js';
import { groupOf, type MessageType, type Priority, type Specialty } from '../../shared/domain/vocabulary.js';
import type { AgentDirectory, AgentRecord, Clock, Ids } from '../../shared/ports/index.js';
import type { Emitter } from './emit.js';

/** The sender of the messages the orchestration itself addresses to agents. */
export const orchestratorId = 'amas-orchestrator';

/** Who an agent reports to: the directory's REPORTS_TO answer, else its registered `supervisorId`. */
export async function supervisorOf(directory: Pick<AgentDirectory, 'get' | 'supervisorOf'>, agentId: string): Promise<AgentRecord | null> {
  if (directory.supervisorOf) return directory.supervisorOf(agentId);
  const supervisorId = (await directory.get(agentId))?.supervisorId;
  return supervisorId ? directory.get(supervisorId) : null;
}

/** The executive asked to approve a plan or a delivery: a quality supervisor first, else a task coordinator. */
export async function deliveryExecutive(directory: Pick<AgentDirectory, 'list'>): Promise<AgentRecord | null> {
  const executives = (await directory.list()).filter((a) => a.layer === 'EXECUTIVE' && a.status !== 'OFFLINE' && a.status !== 'FAILED');
  return executives.find((a) => a.role === 'quality_supervisor') ?? executives.find((a) => a.role === 'task_coordinator') ?? null;
}

/** Members of the lead's team (their `supervisorId` is the lead) go first; the given order holds otherwise. */
export function preferTeam<T extends Pick<AgentRecord, 'id' | 'supervisorId'>>(ranked: readonly T[], leadId: string | null, avoid: readonly string[]): T[] {
  if (!leadId) return [...ranked];
  const rank = (a: T) => (avoid.includes(a.id) ? 2 : a.supervisorId === leadId ? 0 : 1);
  return ranked
    .map((agent, i) => ({ agent, i }))
    .sort((a, b) => rank(a.agent) - rank(b.agent) || a.i - b.i)
    .map((e) => e.agent);
}

export interface DirectMessage {
  recipientId: string;
  messageType: MessageType;
  priority: Priority;
  payload: Record<string, unknown>;
  /** Makes the message id deterministic: the n-th message of the cause event. */
  n: number;
}

/** An `agent.message` from the orchestration to one agent; the runtime's message relay signs it onto the bus. */
export function emitMessage(out: Emitter, deps: { ids: Ids; clock: Clock }, causeId: string, message: DirectMessage): void {
  const data: DataOf<'agent.message'> = {
    messageId: deps.ids.derivedId(causeId, 500 + message.n),
    senderId: orchestratorId,
    recipientId: message.recipientId,
    messageType: message.messageType,
    priority: message.priority,
    payload: message.payload,
    correlationId: causeId,
    sentAt: isoTime(deps.clock.now()),
  };
  out.emit(agentMessage, data);
}

export interface EscalationInput {
  workflowId: string;
  subtaskId: string;
  specialty: Specialty;
  /** The agent whose attempt just failed. */
  agentId: string;
  attempts: number;
  maxAttempts: number;
  /** Oldest first: the previous attempt's reason (if known) and this one's. */
  reasons: string[];
  /** The subtask will run again (true) or has failed the workflow (false). */
  retrying: boolean;
}

/**
 * A specialist failed a subtask for the second time (or more): an ESCALATION goes up REPORTS_TO to
 * the failing agent's supervisor, else to the group's lead. Returns the recipient, or null when the
 * hierarchy has nobody to tell.
 */
export async function escalateFailure(
  out: Emitter,
  deps: { ids: Ids; clock: Clock; directory: Pick<AgentDirectory, 'get' | 'supervisorOf' | 'leadFor'>; failureThreshold: number },
  causeId: string,
  input: EscalationInput,
): Promise<string | null> {
  const recipient = (await supervisorOf(deps.directory, input.agentId)) ?? (await deps.directory.leadFor?.(groupOf(input.specialty))) ?? null;
  if (!recipient || recipient.id === input.agentId) return null;
  const agent = await deps.directory.get(input.agentId);
  const consecutiveFailures = agent?.consecutiveFailures ?? 0;
  emitMessage(out, deps, causeId, {
    recipientId: recipient.id,
    messageType: 'ESCALATION',
    priority: input.retrying ? 'HIGH' : 'URGENT',
    n: out.events.length,
    payload: {
      reason: 'subtask_failed_repeatedly',
      ...input,
      consecutiveFailures,
      // The same rule assign applies: at the threshold the agent gets no more work.
      agentHealthy: consecutiveFailures < deps.failureThreshold,
    },
  });
  return recipient.id;
}
