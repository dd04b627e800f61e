import { setMaxListeners } from 'node:events';
import type { Config } from '../config.js';
import { agentHeartbeat, agentRegistered, makeEvent, msOf, subtaskCompleted, subtaskFailed, topics, type EventContext } from '../events/index.js';
import type { Layer, Specialty } from '../domain/vocabulary.js';
import type { AgentDirectory, Clock, EventBus, Ids, LeaseStore } from '../ports/index.js';
import { systemClock } from '../adapters/memory/clock.system.js';
import { createIds } from '../adapters/memory/ids.js';
import { leaseKeyOf, leaseRenewalMs, leaseTtlMs } from '../domain/protocol.js';
import type { CommunicationBus, MessageHandler, RequestInput, SendResult } from '../messaging/communication-bus.js';
import type { AgentMessage, SendMessageInput } from '../messaging/message-schema.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import { inEventSpan, stampTrace } from '../observability/tracing/index.js';
import { createSubtaskInbox, type Dispatched, type SubtaskInbox } from './subtask-inbox.js';
import type { ModelUsage } from '../domain/usage.js';
import { usageField, usageOfFailure } from './agent-task-error.js';

export type AgentTask = Dispatched['data']['task'] & Pick<Dispatched['data'], 'workflowId' | 'subtaskId' | 'attempt' | 'deadline'>;
export interface AgentResult {
  /** 0..1; below ORCHESTRATION_QUALITY_THRESHOLD the orchestrator retries the subtask. */
  quality: number;
  output: unknown;
  /** What the work spent on a model; reported with the result. A failure's: throw an AgentTaskError. */
  usage?: ModelUsage;
}

export interface CreateAgentOptions {
  id: string;
  layer: Layer;
  specialties: Specialty[];
  role?: string;
  supervisorId?: string;
  /** Concurrent subtasks; default ORCHESTRATION_MAX_TASKS_PER_AGENT. */
  capacity?: number;
  /** Registers the agent as a labelled demo agent (its work is simulated); default false. */
  demo?: boolean;
  /** The work. `signal` aborts when the agent crashes or stops abandoning its work: no result is reported then. */
  handle: (task: AgentTask, work: { signal: AbortSignal }) => Promise<AgentResult>;
  onMessage?: MessageHandler;
  bus: EventBus;
  directory: AgentDirectory;
  leases: LeaseStore;
  config: Pick<Config, 'ORCHESTRATION_HEARTBEAT_INTERVAL' | 'ORCHESTRATION_LEASE_TTL_SECONDS' | 'ORCHESTRATION_MAX_TASKS_PER_AGENT'>;
  /** The process's communication bus (signing keys included); without it messaging is off. */
  messages?: CommunicationBus;
  /** The process's shared dispatch inbox; default: one of its own, group `amas-agent-<id>`. */
  inbox?: SubtaskInbox;
  logger?: Logger;
  clock?: Clock;
  ids?: Ids;
}

export interface Agent {
  readonly id: string;
  sendMessage(input: Omit<SendMessageInput, 'senderId'>): Promise<SendResult>;
  request(input: Omit<RequestInput, 'senderId'>): Promise<AgentMessage>;
  onMessage(handler: MessageHandler): void;
  heartbeat(): Promise<void>;
  /** What the timer runs every third of the lease TTL: renews the leases of the work in hand. */
  renewLeases(): Promise<void>;
  /**
   * Stops taking work, finishes and reports what is in flight, tells its supervisor, goes OFFLINE.
   * `abandonWork`: aborts the work in hand instead and reports none of it (its leases lapse, the
   * orchestrator re-dispatches it), for a process that must not linger.
   */
  stop(options?: { abandonWork?: boolean }): Promise<void>;
  /**
   * Dies as under kill -9, for fault drills: no more reports, heartbeats or renewals from now on,
   * work in hand aborted, nothing said to anyone; the orchestrator finds out by missed heartbeats and lapsed leases.
   */
  crash(): void;
}

/** A real agent on the orchestrator's topics: registers, heartbeats, works its dispatches and reports with its fencing token. */
export async function createAgent(options: CreateAgentOptions): Promise<Agent> {
  const { id, bus, directory, leases, config, messages } = options;
  const logger = options.logger ?? silentLogger;
  const clock = options.clock ?? systemClock;
  const ids = options.ids ?? createIds();
  const context: EventContext = { ids, clock, source: `amas/agent/${id}` };
  const inbox = options.inbox ?? createSubtaskInbox({ bus, groupId: `amas-agent-${id}`, logger });
  const ownInbox = !options.inbox;
  const inFlight = new Map<string, Promise<void>>();
  let messageHandler = options.onMessage;
  let stopping = false;
  let crashed = false;
  /** Aborted when the work in hand is given up (crash, or stop abandoning work): such work reports nothing. */
  const abandon = new AbortController();
  setMaxListeners(0, abandon.signal); // one listener per subtask in hand, however many

  const messaging = (): CommunicationBus => {
    if (!messages) throw new Error(`agent ${id} was created without a communication bus`);
    return messages;
  };

  async function report(event: Dispatched, outcome: { result: AgentResult } | { error: unknown }, startedAt: number): Promise<void> {
    const { workflowId, subtaskId, attempt, leaseToken } = event.data;
    const caused = { ...context, cause: event };
    const done =
      'result' in outcome
        ? makeEvent(
            subtaskCompleted,
            {
              workflowId,
              subtaskId,
              attempt,
              agentId: id,
              leaseToken,
              quality: outcome.result.quality,
              output: outcome.result.output,
              durationMs: clock.now() - startedAt,
              ...usageField(outcome.result.usage),
            },
            caused,
            0,
          )
        : makeEvent(
            subtaskFailed,
            {
              workflowId,
              subtaskId,
              attempt,
              agentId: id,
              leaseToken,
              reason: reasonOf(outcome.error),
              cause: 'agent_error',
              ...usageField(usageOfFailure(outcome.error)),
            },
            caused,
            1,
          );
    await bus.publish(topics.subtaskResults, [{ key: workflowId, event: stampTrace(done) }]);
  }

  async function work(event: Dispatched): Promise<void> {
    const { subtaskId, leaseToken, deadline, task, workflowId, attempt } = event.data;
    if (msOf(deadline) <= clock.now()) return logger.debug('dispatch past its deadline skipped', { agentId: id, subtaskId });
    // A replayed or superseded dispatch: someone else (or a later attempt) owns the work now.
    const lease = await leases.get(leaseKeyOf(subtaskId));
    if (!lease || lease.holder !== id || lease.token !== leaseToken) return logger.debug('stale dispatch skipped', { agentId: id, subtaskId, leaseToken });
    const startedAt = clock.now();
    let outcome: { result: AgentResult } | { error: unknown };
    try {
      const result = await options.handle({ ...task, workflowId, subtaskId, attempt, deadline }, { signal: abandon.signal });
      outcome =
        Number.isFinite(result.quality) && result.quality >= 0 && result.quality <= 1
          ? { result }
          : { error: new Error(`quality ${result.quality} is not within 0..1`) };
    } catch (error) {
      outcome = { error };
    }
    if (abandon.signal.aborted) return logger.debug('abandoned work not reported', { agentId: id, subtaskId });
    if ('error' in outcome) logger.warn('agent task failed', { agentId: id, subtaskId, error: reasonOf(outcome.error) });
    await report(event, outcome, startedAt);
  }

  /** The (lease, token) pairs of work in hand: heartbeats renew these, never a predecessor's lost work. */
  const held = new Map<string, number>();
  const deliver = (event: Dispatched): void => {
    const key = `${event.data.subtaskId}#${event.data.attempt}`;
    if (stopping || inFlight.has(key)) return;
    const lease = leaseKeyOf(event.data.subtaskId);
    held.set(lease, event.data.leaseToken);
    // The agent's span, a child of dispatch's: its result event carries it on to complete.
    const attributes = { 'amas.agent_id': id, 'amas.subtask_id': event.data.subtaskId, 'amas.attempt': event.data.attempt, 'amas.demo': options.demo === true };
    const job = inEventSpan('agent work', event, attributes, () => work(event))
      .catch((error: unknown) => logger.error('agent could not report a result', { agentId: id, key, error: reasonOf(error) }))
      .finally(() => {
        inFlight.delete(key);
        if (held.get(lease) === event.data.leaseToken) held.delete(lease);
      });
    inFlight.set(key, job);
  };

  /** Lease renewal only (no directory write, no event): runs every third of the lease TTL. */
  async function renewLeases(): Promise<void> {
    if (crashed) return;
    const ttl = leaseTtlMs(config);
    let lapsed = false;
    for (const [lease, token] of held) {
      // A lease store that lost its memory (Redis restarted) has no record of the lease: take it back, or recovery re-runs the work.
      const kept = (await leases.renew(lease, token, ttl)) || (await leases.reclaim(lease, id, token, ttl));
      lapsed = !kept || lapsed;
    }
    // A lapsed lease may have got this agent marked OFFLINE by the recovery loop: it is alive, say so now.
    if (lapsed) await directory.heartbeat(id, clock.now());
  }

  /** The health report (every ORCHESTRATION_HEARTBEAT_INTERVAL); it renews the leases too. */
  async function heartbeat(): Promise<void> {
    if (crashed) return;
    await directory.heartbeat(id, clock.now());
    await renewLeases();
    const record = await directory.get(id);
    await bus.publish(topics.agents, [
      { key: id, event: makeEvent(agentHeartbeat, { agentId: id, status: record?.status ?? 'AVAILABLE', load: record?.load ?? 0 }, context) },
    ]);
  }

  // Listen first, then register: no dispatch can reach an agent that is not yet listening.
  await inbox.add(id, deliver);
  const closeMessages = messages ? await messages.onMessage(id, (m, ctx) => messageHandler?.(m, ctx)) : undefined;
  const capacity = options.capacity ?? config.ORCHESTRATION_MAX_TASKS_PER_AGENT;
  const registration = {
    id,
    layer: options.layer,
    specialties: options.specialties,
    capacity,
    demo: options.demo === true,
    ...(options.role ? { role: options.role } : {}),
    ...(options.supervisorId ? { supervisorId: options.supervisorId } : {}),
  };
  await directory.register(registration, clock.now());
  const { id: agentId, ...announced } = registration;
  await bus.publish(topics.agents, [{ key: id, event: makeEvent(agentRegistered, { agentId, ...announced }, context) }]);
  const timer = setInterval(
    () => void heartbeat().catch((error: unknown) => logger.warn('heartbeat failed', { agentId: id, error: reasonOf(error) })),
    config.ORCHESTRATION_HEARTBEAT_INTERVAL * 1000,
  );
  timer.unref();
  const renewal = setInterval(
    () => void renewLeases().catch((error: unknown) => logger.warn('lease renewal failed', { agentId: id, error: reasonOf(error) })),
    leaseRenewalMs(config),
  );
  renewal.unref();

  return {
    id,
    sendMessage: (input) => messaging().sendMessage({ ...input, senderId: id } as SendMessageInput),
    request: (input) => messaging().request({ ...input, senderId: id }),
    onMessage: (handler) => void (messageHandler = handler),
    heartbeat,
    renewLeases,
    async stop(stopOptions) {
      if (stopping) return;
      stopping = true;
      inbox.remove(id);
      if (stopOptions?.abandonWork) abandon.abort();
      if (ownInbox) await inbox.stop();
      await Promise.allSettled([...inFlight.values()]);
      clearInterval(timer);
      clearInterval(renewal);
      if (messages && options.supervisorId) {
        await messages
          .sendMessage({ senderId: id, recipientId: options.supervisorId, messageType: 'SHUTDOWN_NOTICE', priority: 'HIGH', payload: { agentId: id } })
          .catch((error: unknown) => logger.warn('shutdown notice not sent', { agentId: id, error: reasonOf(error) }));
      }
      await directory.setStatus(id, 'OFFLINE');
      closeMessages?.();
    },
    crash() {
      if (crashed) return;
      crashed = stopping = true;
      inbox.remove(id);
      abandon.abort();
      clearInterval(timer);
      clearInterval(renewal);
      closeMessages?.();
      if (ownInbox) void inbox.stop().catch((error: unknown) => logger.warn('inbox stop failed', { agentId: id, error: reasonOf(error) }));
    },
  };
}

const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)) || 'agent error';
