import { NotFoundError } from '../errors.js';
import { agentMessage, isoTime, makeEvent, msOf } from '../events/index.js';
import type { Subscription } from '../ports/index.js';
import { systemClock } from '../adapters/memory/clock.system.js';
import { createIds } from '../adapters/memory/ids.js';
import type { CommunicationBus, CommunicationBusOptions, MessageContext, MessageHandler, SendResult } from './bus-types.js';
import { createMetricsRecorder } from './communication-metrics.js';
import { signMessage, verifyMessage } from './message-auth.js';
import { everyone, messageHeaders, sendMessageInputSchema, type AgentMessage, type SendMessageInput } from './message-schema.js';
import { createPriorityBuffer, type PriorityBuffer } from './priority-buffer.js';
import { bandGroupId, prioritiesHighestFirst, priorityTopics, raised, responseTimeoutMs } from './priority-topics.js';
import { MessageTimeoutError, awaitReply, createPendingRequests } from './request-response.js';
import { createSeenIds } from './seen-ids.js';
import { createSendBatcher } from './send-batcher.js';
import { reachable } from './tenant-scope.js';

export type { CommunicationBus, CommunicationBusOptions, MessageContext, MessageHandler, MessagingConfig, RequestInput, SendResult } from './bus-types.js';

/** What a record of this message weighs on the wire, roughly: its JSON plus the CloudEvent headers. */
const estimatedBytes = (data: AgentMessage): number => JSON.stringify(data.payload).length + 600;

interface Inbox {
  handler: MessageHandler;
  buffer: PriorityBuffer<AgentMessage>;
}

/**
 * Agent-to-agent messages over the EventBus port: `agent.message` CloudEvents on one topic per
 * priority band, keyed by recipient, HMAC-signed by the sender and verified on receipt.
 */
export function createCommunicationBus(options: CommunicationBusOptions): CommunicationBus {
  const { eventBus, keys, config, logger } = options;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? createIds();
  const context = { ids, clock, source: 'amas/messaging' };
  const groupId = options.groupId ?? ids.newId('amas-messages');
  const metrics = createMetricsRecorder({
    warning: config.ORCHESTRATION_MESSAGE_BACKLOG_WARNING,
    critical: config.ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL,
    logger,
    ...(options.registry ? { registry: options.registry } : {}),
  });
  const inboxes = new Map<string, Inbox>();
  const topicSubscribers = new Map<string, Set<string>>();
  const pending = createPendingRequests();
  const seen = createSeenIds();
  let subscriptions: Promise<Subscription[]> | undefined;

  const batcher = createSendBatcher({
    publish: (topic, records) => eventBus.publish(topic, records),
    order: prioritiesHighestFirst.map((p) => priorityTopics[p]),
  });

  // The signature and the broadcast topic travel in the event's data, so one publish carries records of many senders.
  async function publishOne(data: AgentMessage): Promise<void> {
    const signature = await signMessage(keys, data);
    const event = makeEvent(agentMessage, { ...data, signature }, context);
    await batcher.send(priorityTopics[data.priority], { key: data.recipientId ?? `topic:${data.topic}`, event }, estimatedBytes(data));
    metrics.sent();
  }

  async function send(raw: SendMessageInput, messageId = ids.newId('msg')): Promise<SendResult> {
    const input = sendMessageInputSchema.parse(raw);
    const { recipientId, team, broadcast, ...rest } = input;
    const base = { ...rest, messageId, sentAt: isoTime(clock.now()) };
    if (recipientId) {
      // Another tenant's agent is answered exactly as one that does not exist.
      if ((await reachable(options.tenancyOf, input.senderId, [recipientId])).length === 0) throw new NotFoundError(`agent ${recipientId}`);
      await publishOne({ ...base, recipientId });
      return { messageId, recipients: [recipientId] };
    }
    if (team) {
      const members = (await options.teamMembers?.(team)) ?? [];
      const recipients = await reachable(
        options.tenancyOf,
        input.senderId,
        members.filter((m) => m !== input.senderId),
      );
      if (recipients.length === 0) logger.warn('team has no other members; message not sent', { team, messageId });
      await Promise.all(recipients.map((member) => publishOne({ ...base, recipientId: member, team })));
      return { messageId, recipients };
    }
    const topic = broadcast === true || broadcast === undefined ? everyone : broadcast;
    await publishOne({ ...base, broadcast: true, topic });
    return { messageId, recipients: [], topic };
  }

  const contextFor = (recipient: string, message: AgentMessage): MessageContext => ({
    reply: (payload, opts = {}) =>
      send({
        senderId: recipient,
        recipientId: message.senderId,
        messageType: opts.messageType ?? 'ACKNOWLEDGMENT',
        priority: opts.priority ?? message.priority,
        payload,
        correlationId: message.correlationId ?? message.messageId,
      }),
  });

  async function handle(recipient: string, message: AgentMessage): Promise<void> {
    const inbox = inboxes.get(recipient);
    if (!inbox) return;
    const sentAt = msOf(message.sentAt);
    // Still queued after its priority's response timeout: the sender has already retried or escalated.
    if (clock.now() - sentAt > responseTimeoutMs(message.priority, config.ORCHESTRATION_MESSAGE_TIMEOUT)) {
      metrics.failed('expired');
      logger.warn('message expired in the queue', { recipient, messageId: message.messageId, priority: message.priority });
      return;
    }
    try {
      await inbox.handler(message, contextFor(recipient, message));
      metrics.delivered(clock.now() - sentAt);
    } catch (error) {
      metrics.failed('handler_error');
      logger.warn('message handler failed', { recipient, messageId: message.messageId, error: String(error) });
    }
  }

  function targetsOf(message: AgentMessage): string[] {
    if (message.recipientId) return inboxes.has(message.recipientId) ? [message.recipientId] : [];
    const topic = message.topic ?? everyone;
    const members = topic === everyone ? [...inboxes.keys()] : [...(topicSubscribers.get(topic) ?? [])];
    return members.filter((m) => m !== message.senderId && inboxes.has(m));
  }

  async function receive(value: unknown, headers: Record<string, string>): Promise<void> {
    // Only the data is used (and signed): validating it alone halves the per-record parsing cost.
    const envelope = value as { type?: unknown; data?: { recipientId?: unknown } } | null;
    // Every process's group reads every message: one addressed to an inbox elsewhere is that process's to check.
    const to = envelope?.data?.recipientId;
    if (typeof to === 'string' && !inboxes.has(to)) return;
    const parsed = envelope?.type === agentMessage.type ? agentMessage.data.safeParse(envelope.data) : undefined;
    if (!parsed?.success) {
      metrics.failed('invalid');
      logger.warn('invalid agent message dropped', { error: parsed?.error.message ?? 'not an agent.message event' });
      return;
    }
    // Records written before the signature and topic moved into the data carry them in headers.
    const { signature = headers[messageHeaders.signature], topic = headers[messageHeaders.topic], ...fields } = parsed.data;
    const message: AgentMessage = { ...fields, ...(topic ? { topic } : {}) };
    const local = targetsOf(message);
    if (local.length === 0) return;
    if (!(await verifyMessage(keys, message, signature))) {
      metrics.failed('unauthenticated');
      logger.warn('message refused: bad or missing signature', { messageId: message.messageId, claimedSender: message.senderId });
      return;
    }
    // A broadcast's recipients are only known here, each process its own inboxes: scope them by tenant now.
    const targets = message.recipientId ? local : await reachable(options.tenancyOf, message.senderId, local);
    for (const target of targets) {
      if (!seen.firstTime(target, message.messageId)) continue;
      if (pending.settle(target, message)) {
        metrics.delivered(clock.now() - msOf(message.sentAt));
        continue;
      }
      await inboxes.get(target)?.buffer.push(message.priority, message);
    }
  }

  // A group per band: on Kafka one group whose members read different topics would rebalance on every join.
  const start = (): Promise<Subscription[]> =>
    (subscriptions ??= Promise.all(
      prioritiesHighestFirst.map((priority) =>
        eventBus.subscribe({
          groupId: bandGroupId(groupId, priority),
          topic: priorityTopics[priority],
          fromBeginning: options.fromBeginning ?? false,
          handler: (d) => receive(d.value, d.headers),
        }),
      ),
    ));

  return {
    sendMessage: (input) => send(input),

    async request(input) {
      const { timeoutMs: explicit, ...message } = input;
      const priority = message.priority ?? 'NORMAL';
      const timeoutMs = responseTimeoutMs(priority, config.ORCHESTRATION_MESSAGE_TIMEOUT, explicit);
      const requestId = ids.newId('msg');
      const open = pending.open(requestId, input.senderId);
      const retries = config.ORCHESTRATION_MESSAGE_RETRIES;
      try {
        const reply = await awaitReply({
          retries,
          timeoutMs,
          reply: open.reply,
          send: async (attempt) => void (await send({ ...message, correlationId: requestId }, attempt === 1 ? requestId : ids.newId('msg'))),
          onUnanswered: (attempt) => logger.warn('request unanswered', { requestId, recipientId: input.recipientId, attempt, of: retries + 1, timeoutMs }),
        });
        if (reply) return reply;
      } finally {
        open.close();
      }
      metrics.unanswered();
      const supervisor = await options.supervisorOf?.(input.senderId);
      if (supervisor) {
        await send({
          senderId: input.senderId,
          recipientId: supervisor,
          messageType: 'ESCALATION',
          priority: raised(priority),
          payload: { reason: 'request_timeout', requestId, recipientId: input.recipientId, messageType: input.messageType, attempts: retries + 1, timeoutMs },
        });
      } else logger.warn('unanswered request has no supervisor to escalate to', { requestId, senderId: input.senderId });
      throw new MessageTimeoutError(`no reply from ${input.recipientId} to ${requestId} after ${retries + 1} attempts of ${timeoutMs} ms`);
    },

    async onMessage(agentId, handler) {
      const buffer = createPriorityBuffer<AgentMessage>({
        maxSize: config.ORCHESTRATION_MESSAGE_QUEUE_MAX_SIZE,
        handle: (message) => handle(agentId, message),
        onSizeChange: (size) => metrics.backlog(agentId, size),
      });
      inboxes.set(agentId, { handler, buffer });
      metrics.backlog(agentId, 0);
      await start();
      return () => {
        if (inboxes.get(agentId)?.buffer === buffer) inboxes.delete(agentId);
        buffer.close();
      };
    },

    subscribeTopic(agentId, topic) {
      const set = topicSubscribers.get(topic) ?? new Set<string>();
      set.add(agentId);
      topicSubscribers.set(topic, set);
    },
    unsubscribeTopic(agentId, topic) {
      topicSubscribers.get(topic)?.delete(agentId);
      if (topicSubscribers.get(topic)?.size === 0) topicSubscribers.delete(topic);
    },

    getCommunicationMetrics() {
      const buffers = [...inboxes.values()].map((i) => i.buffer);
      const queueSize = buffers.reduce((sum, b) => sum + b.queued(), 0);
      return metrics.snapshot({
        activeChannels: inboxes.size,
        queueSize,
        pendingDeliveries: queueSize + buffers.reduce((sum, b) => sum + b.inFlight(), 0),
        pendingRequests: pending.size(),
        broadcastTopics: [...topicSubscribers.keys()].sort(),
      });
    },
    backlogLevel: () => metrics.level(),
    idle: async () => void (await Promise.all([...inboxes.values()].map((i) => i.buffer.idle()))),
    async close() {
      for (const inbox of inboxes.values()) inbox.buffer.close();
      inboxes.clear();
      for (const subscription of await (subscriptions ?? Promise.resolve([]))) await subscription.stop();
    },
  };
}
