import type { Registry } from 'prom-client';
import type { Config } from '../config.js';
import type { Clock, EventBus, Ids } from '../ports/index.js';
import type { Logger } from '../observability/logger.js';
import type { BacklogLevel, CommunicationMetrics } from './communication-metrics.js';
import type { AgentKeyStore } from './message-auth.js';
import type { AgentMessage, SendMessageInput } from './message-schema.js';
import type { TenancyOf } from './tenant-scope.js';

export type MessagingConfig = Pick<
  Config,
  | 'ORCHESTRATION_MESSAGE_TIMEOUT'
  | 'ORCHESTRATION_MESSAGE_RETRIES'
  | 'ORCHESTRATION_MESSAGE_BACKLOG_WARNING'
  | 'ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL'
  | 'ORCHESTRATION_MESSAGE_QUEUE_MAX_SIZE'
>;

export interface CommunicationBusOptions {
  eventBus: EventBus;
  keys: AgentKeyStore;
  config: MessagingConfig;
  logger: Logger;
  clock?: Clock;
  ids?: Ids;
  /** Where `orchestration_message_backlog{recipient}` and the message counters are registered. */
  registry?: Registry;
  /** The supervisor an unanswered request is escalated to (directory look-up). */
  supervisorOf?: (agentId: string) => Promise<string | null | undefined>;
  /** A team's members: a specialty group, or a lead's reports. */
  teamMembers?: (team: string) => Promise<string[]>;
  /**
   * An agent's tenancy (the directory's): given, a tenant's agent reaches only its tenant's and the
   * shared agents (a direct send elsewhere is a NotFoundError; teams and broadcasts are filtered).
   */
  tenancyOf?: TenancyOf;
  /** This process's consumer group for its local inboxes: one per process, not per agent. */
  groupId?: string;
  fromBeginning?: boolean;
}

export interface SendResult {
  messageId: string;
  recipients: string[];
  topic?: string;
}

export interface MessageContext {
  /** Answers the message; a pending `request()` of its sender resolves with this reply. */
  reply(payload: Record<string, unknown>, options?: Partial<Pick<SendMessageInput, 'messageType' | 'priority'>>): Promise<SendResult>;
}
export type MessageHandler = (message: AgentMessage, context: MessageContext) => Promise<void> | void;
export type RequestInput = SendMessageInput & { recipientId: string; timeoutMs?: number };

export interface CommunicationBus {
  sendMessage(input: SendMessageInput): Promise<SendResult>;
  request(input: RequestInput): Promise<AgentMessage>;
  /** Opens the agent's local inbox; its messages are handled one at a time, highest priority first. */
  onMessage(agentId: string, handler: MessageHandler): Promise<() => void>;
  subscribeTopic(agentId: string, topic: string): void;
  unsubscribeTopic(agentId: string, topic: string): void;
  getCommunicationMetrics(): CommunicationMetrics;
  backlogLevel(): BacklogLevel;
  /** Resolves when every local inbox is empty and idle (tests, graceful stop). */
  idle(): Promise<void>;
  close(): Promise<void>;
}
