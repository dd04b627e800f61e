import { priorityRank, priorityResponseTimeoutSeconds, prioritySchema, type Priority } from '../domain/vocabulary.js';

/** One topic per priority band, so a CRITICAL message never waits behind a partition full of LOW ones. */
export const priorityTopics: Record<Priority, string> = {
  CRITICAL: 'amas.messages.critical',
  URGENT: 'amas.messages.urgent',
  HIGH: 'amas.messages.high',
  NORMAL: 'amas.messages.normal',
  LOW: 'amas.messages.low',
};

/** Highest first: the order in which a recipient's buffer drains. */
export const prioritiesHighestFirst: readonly Priority[] = [...prioritySchema.options].sort((a, b) => priorityRank[b] - priorityRank[a]);

export const allPriorityTopics: readonly string[] = prioritiesHighestFirst.map((p) => priorityTopics[p]);

/** The consumer group of one band's subscription (lag is read per band with it). */
export const bandGroupId = (groupId: string, priority: Priority): string => `${groupId}.${priority.toLowerCase()}`;

/** One band up (CRITICAL stays CRITICAL): an escalation is more urgent than what it escalates. */
export function raised(priority: Priority): Priority {
  const index = prioritiesHighestFirst.indexOf(priority);
  return prioritiesHighestFirst[Math.max(0, index - 1)]!;
}

/**
 * The response timeout of a message: an explicit timeout wins; otherwise the priority's default
 * (LOW 600 s … CRITICAL 30 s) capped by ORCHESTRATION_MESSAGE_TIMEOUT, so the variable can only
 * shorten a band's wait, never lengthen CRITICAL's 30 s.
 */
export function responseTimeoutMs(priority: Priority, configTimeoutSeconds: number, explicitMs?: number): number {
  if (explicitMs !== undefined) return explicitMs;
  return Math.min(priorityResponseTimeoutSeconds[priority], configTimeoutSeconds) * 1000;
}
