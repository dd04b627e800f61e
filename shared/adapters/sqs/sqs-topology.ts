import { allTopics, deadLetterTopic, functionSubscriptions, type Topic } from '../../events/topics.js';

/** The group of the queue a topic gets when no function consumes it on AWS (agents, audit, operators read it). */
export const observerGroup = 'amas-observers';

export interface SqsQueueGroup {
  /** An orchestration topic, or the `<topic>.dlq` of a consumed one. */
  topic: Topic | `${Topic}.dlq`;
  groupId: string;
  /** The Lambda fed by this queue, or null when nothing in this service consumes it. */
  consumer: keyof typeof functionSubscriptions | null;
}

/**
 * Every queue the SQS bus publishes into: one per function subscription, and one observer queue per
 * topic no function reads (the outbox relay publishes onto every topic, and a topic without a
 * queue is a publish error, never a silent drop), and one observer queue per consumed topic's
 * `<topic>.dlq`, where the Lambda bindings publish dead letters with their reason.
 * serverless.yml declares exactly these.
 */
export const sqsQueueGroups: readonly SqsQueueGroup[] = [
  ...allTopics.map((topic): SqsQueueGroup => {
    const entry = Object.entries(functionSubscriptions).find(([, s]) => s.topic === topic);
    return entry
      ? { topic, groupId: entry[1].groupId, consumer: entry[0] as keyof typeof functionSubscriptions }
      : { topic, groupId: observerGroup, consumer: null };
  }),
  ...Object.values(functionSubscriptions).map(({ topic }): SqsQueueGroup => ({
    topic: deadLetterTopic(topic) as `${Topic}.dlq`,
    groupId: observerGroup,
    consumer: null,
  })),
];
