import { randomBytes } from 'node:crypto';
import { createCommunicationBus } from '../messaging/communication-bus.js';
import { createDerivedKeyStore } from '../messaging/message-auth.js';
import { createSeenIds } from '../messaging/seen-ids.js';
import { tenancyFromDirectory } from '../messaging/tenant-scope.js';
import { infraSchema } from '../env.js';
import { agentLost, agentMessage, topics } from '../events/index.js';
import { groupOf, specialtyGroupSchema } from '../domain/vocabulary.js';
import { approvalStages } from '../domain/approval.js';
import type { EventBus } from '../ports/index.js';
import { control } from '../../functions/index.js';
import { orchestratorId, supervisorOf } from '../../functions/index.js';
import type { RuntimePorts } from './functions.js';
import type { Logger } from '../observability/logger.js';
import type { OutboxRelay } from './outbox-relay.js';
import { logStateChange, rememberingReads, toOutbox } from './process-event.js';
import { commitWithEffects } from './effects.js';
import { countFinished, type Metrics } from '../observability/metrics.js';

export interface MessagingOptions {
  secret?: string;
  /** The consumer group of this process's inboxes (default: one per process). */
  groupId?: string;
}

interface RelayInput {
  eventBus: EventBus;
  ports: RuntimePorts;
  relay: OutboxRelay;
  logger: Logger;
  /** Counts the workflows an approval decision finishes. */
  metrics?: Metrics;
  options: MessagingOptions;
}

/**
 * Handlers cannot call the bus, so what they address to agents is an agent.message event on
 * `amas.messages`; this relay signs it onto the communication bus (as the orchestrator). It also
 * tells a lost agent's supervisor (agent.lost) and turns an executive's APPROVAL_RESPONSE to the
 * orchestrator ({workflowId, approved, reason?, stage?}) into the approve / reject command.
 */
export async function startMessageRelay({ eventBus, ports, relay, logger, metrics, options }: RelayInput) {
  const { directory, config, store, clock, ids } = ports;
  let secret = options.secret ?? infraSchema.shape.AMAS_MESSAGE_SECRET.parse(process.env.AMAS_MESSAGE_SECRET || undefined);
  if (!secret) {
    secret = randomBytes(32).toString('base64url');
    logger.warn('AMAS_MESSAGE_SECRET is not set: generated a signing secret for this process only; agents in other processes cannot exchange messages with it');
  }
  const keys = createDerivedKeyStore(secret);
  const teamMembers = async (team: string) => {
    // A team is a specialty group's pool, or a lead's reports.
    const group = specialtyGroupSchema.safeParse(team).data ?? null;
    return (await directory.list()).filter((a) => (group ? a.specialties.some((s) => groupOf(s) === group) : a.supervisorId === team)).map((a) => a.id);
  };
  const bus = createCommunicationBus({
    eventBus,
    keys,
    config,
    logger,
    clock,
    ids,
    teamMembers,
    ...(options.groupId ? { groupId: options.groupId } : {}),
    // Its backlog and message counts on this process's /metrics.
    ...(metrics ? { registry: metrics.registry } : {}),
    supervisorOf: async (agentId) => (await supervisorOf(directory, agentId))?.id ?? null,
    // A tenant's agent messages only its tenant's and the shared agents; the orchestrator is shared.
    tenancyOf: tenancyFromDirectory(directory, [orchestratorId]),
  });
  const forwarded = createSeenIds(10_000);
  const forward = async (value: unknown) => {
    const parsed = agentMessage.schema.safeParse(value);
    if (!parsed.success || !parsed.data.data.recipientId || !forwarded.firstTime('relay', parsed.data.id)) return;
    const { senderId, recipientId, messageType, priority, payload, correlationId } = parsed.data.data;
    await bus.sendMessage({ senderId, recipientId, messageType, priority, payload, ...(correlationId ? { correlationId } : {}) });
  };
  const onLost = async (value: unknown) => {
    const parsed = agentLost.schema.safeParse(value);
    if (!parsed.success) return;
    const boss = await supervisorOf(directory, parsed.data.data.agentId);
    if (!boss) return;
    const payload = { reason: 'agent_lost', agentId: parsed.data.data.agentId, detail: parsed.data.data.reason, subtaskIds: parsed.data.data.subtaskIds };
    await bus.sendMessage({
      senderId: orchestratorId,
      recipientId: boss.id,
      messageType: 'ESCALATION',
      priority: 'HIGH',
      payload,
      correlationId: parsed.data.id,
    });
  };
  const subscriptions = [
    await eventBus.subscribe({ groupId: 'amas-message-relay', topic: topics.messages, handler: (d) => forward(d.value) }),
    await eventBus.subscribe({ groupId: 'amas-lost-agent-notices', topic: topics.agents, handler: (d) => onLost(d.value) }),
  ];
  const closeInbox = await bus.onMessage(orchestratorId, async (message, context) => {
    if (message.messageType !== 'APPROVAL_RESPONSE') return;
    const { workflowId, approved, reason, stage } = message.payload as { workflowId?: unknown; approved?: unknown; reason?: unknown; stage?: unknown };
    if (typeof workflowId !== 'string' || typeof approved !== 'boolean') return;
    // The APPROVAL_REQUEST names its stage; an answer that echoes it cannot approve a later stage by mistake.
    const decided = approvalStages.find((s) => s === stage);
    const command = approved ? 'approve' : 'reject';
    const commandId = `${command}:${message.messageId}`;
    // The signature proves who sent it, the directory what they are: only the executive layer decides delivery.
    const sender = await directory.get(message.senderId);
    if (sender?.layer !== 'EXECUTIVE') {
      const error = `${message.senderId} is ${sender ? `a ${sender.layer} agent` : 'not a registered agent'}: only an executive-layer agent may ${command} a workflow`;
      logger.warn('approval response refused', { workflowId, command, senderId: message.senderId, layer: sender?.layer ?? null, error });
      await context.reply({ workflowId, decision: command, accepted: false, error }, { messageType: 'ERROR_REPORT' });
      return;
    }
    try {
      if (!(await store.hasProcessed('api', commandId))) {
        const reading = rememberingReads(ports);
        const outcome = await control(
          command,
          workflowId,
          commandId,
          reading.ports,
          typeof reason === 'string' && reason ? reason : `rejected by ${message.senderId}`,
          decided,
        );
        const change = { consumer: 'api', eventId: commandId, ...outcome.change, outbox: toOutbox(outcome.emit) };
        if ((await commitWithEffects(change, outcome.after, ports, { logger, metrics })) === 'applied') {
          logStateChange(logger, change, reading.before, workflowId);
          if (metrics) countFinished(metrics, outcome.emit);
        }
        relay.kick();
      }
      await context.reply({ workflowId, decision: command, accepted: true }, { messageType: 'MESSAGE_PROCESSED' });
    } catch (error) {
      logger.warn('approval response refused', { workflowId, command, error: String(error) });
      await context.reply({ workflowId, decision: command, accepted: false, error: String(error) }, { messageType: 'ERROR_REPORT' });
    }
  });
  return {
    bus,
    keys,
    async stop() {
      closeInbox();
      for (const subscription of subscriptions) await subscription.stop();
      await bus.close();
    },
  };
}
