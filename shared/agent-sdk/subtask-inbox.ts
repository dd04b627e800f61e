import { orchestrationEventSchema, topics, type EventOf } from '../events/index.js';
import type { EventBus, Subscription } from '../ports/index.js';
import { createSeenIds } from '../messaging/seen-ids.js';
import type { Logger } from '../observability/logger.js';

export type Dispatched = EventOf<'subtask.dispatched'>;

export interface SubtaskInbox {
  /** Routes this agent's dispatches to `deliver`; the consumer subscription starts with the first agent. */
  add(agentId: string, deliver: (event: Dispatched) => void): Promise<void>;
  remove(agentId: string): void;
  stop(): Promise<void>;
}

/**
 * One consumer group per process (not per agent) on `amas.subtasks.dispatched`, routing each
 * dispatch to the local agent it names: 40 agents in a process cost one subscription, not 40. The
 * group must be this process's own (a shared group would hand another host's dispatches to us).
 * `deliver` must not block: work runs beside the consumer loop, so one slow agent holds no partition.
 */
export function createSubtaskInbox(options: { bus: EventBus; groupId: string; logger: Logger; fromBeginning?: boolean }): SubtaskInbox {
  const agents = new Map<string, (event: Dispatched) => void>();
  const handed = createSeenIds();
  let subscription: Promise<Subscription> | undefined;

  const route = async (value: unknown): Promise<void> => {
    const parsed = orchestrationEventSchema.safeParse(value);
    if (!parsed.success) {
      options.logger.warn('agent inbox dropped an invalid record', { error: parsed.error.message });
      return;
    }
    const event = parsed.data;
    if (event.type !== 'subtask.dispatched') return;
    const { agentId, subtaskId, attempt, leaseToken } = event.data;
    // A redelivered dispatch (offsets not yet committed when a broker restart or rebalance hit) is handed over once.
    if (agents.has(agentId) && handed.firstTime(agentId, `${subtaskId}#${attempt}#${leaseToken}`)) agents.get(agentId)?.(event);
  };

  return {
    async add(agentId, deliver) {
      agents.set(agentId, deliver);
      subscription ??= options.bus.subscribe({
        groupId: options.groupId,
        topic: topics.subtaskDispatched,
        // A stable group resumes where it stopped; a new one starts at the end (agents subscribe before registering).
        fromBeginning: options.fromBeginning ?? false,
        handler: (delivery) => route(delivery.value),
      });
      await subscription;
    },
    remove(agentId) {
      agents.delete(agentId);
    },
    async stop() {
      agents.clear();
      await (await subscription)?.stop();
    },
  };
}
