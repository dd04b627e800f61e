import type { EventType } from './catalog.js';

/** One topic per event family; each function consumes exactly one topic (KEDA scales it on that lag). */
export const topics = {
  tasks: 'amas.tasks',
  workflows: 'amas.workflows',
  subtaskReady: 'amas.subtasks.ready',
  subtaskAssigned: 'amas.subtasks.assigned',
  subtaskDispatched: 'amas.subtasks.dispatched',
  subtaskResults: 'amas.subtasks.results',
  agents: 'amas.agents',
  messages: 'amas.messages',
} as const;
export type Topic = (typeof topics)[keyof typeof topics];
export const allTopics: readonly Topic[] = Object.values(topics);

export const topicOf: Record<EventType, Topic> = {
  'task.submitted': topics.tasks,
  'workflow.decomposed': topics.workflows,
  'workflow.completed': topics.workflows,
  'workflow.failed': topics.workflows,
  'workflow.cancelled': topics.workflows,
  // Applied by the API in process (the caller waits for the answer); never published.
  'workflow.command.requested': topics.workflows,
  'subtask.ready': topics.subtaskReady,
  'subtask.assigned': topics.subtaskAssigned,
  'subtask.dispatched': topics.subtaskDispatched,
  'subtask.completed': topics.subtaskResults,
  'subtask.failed': topics.subtaskResults,
  'agent.registered': topics.agents,
  'agent.heartbeat': topics.agents,
  'agent.lost': topics.agents,
  'agent.message': topics.messages,
};

export const deadLetterTopic = (topic: string): string => `${topic}.dlq`;

/** Each function's consumer group and the topic it reads. */
export const functionSubscriptions = {
  decompose: { topic: topics.tasks, groupId: 'amas-decompose' },
  assign: { topic: topics.subtaskReady, groupId: 'amas-assign' },
  dispatch: { topic: topics.subtaskAssigned, groupId: 'amas-dispatch' },
  complete: { topic: topics.subtaskResults, groupId: 'amas-complete' },
} as const;
/** A function deployed as a consumer of its topic (one Deployment, ScaledObject and queue each). */
export type ConsumerName = keyof typeof functionSubscriptions;
/** `control` applies a user's command: the API delivers it in process, through the same path as events. */
export type FunctionName = ConsumerName | 'control';
export const consumerNames = Object.keys(functionSubscriptions) as ConsumerName[];

/** The topic a function's deliveries are labelled with in metrics and logs. */
export const inputTopicOf = (name: FunctionName): Topic => (name === 'control' ? topics.workflows : functionSubscriptions[name].topic);
