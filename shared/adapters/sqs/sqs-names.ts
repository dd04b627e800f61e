import { createHash } from 'node:crypto';

/**
 * Queue naming for the SQS event bus. SQS allows [A-Za-z0-9_-], 80 characters including ".fifo";
 * a topic's fan-out set is found by listing queues with the prefix `<prefix><topic>--`.
 */
const SEPARATOR = '--';
const FIFO = '.fifo';
const DLQ = '-dlq';
const MAX_NAME = 80;

const clean = (part: string): string => part.replace(/[^A-Za-z0-9_-]/g, '_');

/** Shortens an over-long name part, keeping it unique with a hash of the original. */
function fit(part: string, max: number): string {
  if (part.length <= max) return part;
  const hash = createHash('sha256').update(part).digest('hex').slice(0, 8);
  return `${part.slice(0, max - 9)}_${hash}`;
}

export interface QueueNames {
  /** `<prefix><topic>--`: every group queue of the topic starts with it. */
  topicPrefix(topic: string): string;
  groupQueue(topic: string, groupId: string): string;
  deadLetterQueue(topic: string, groupId: string): string;
  /** The group queues among ListQueues results for a topic (not its dead-letter queues). */
  isGroupQueueOf(topic: string, queueName: string): boolean;
}

export function queueNames(prefix = ''): QueueNames {
  const topicPart = (topic: string) => `${clean(prefix)}${fit(clean(topic), 36)}${SEPARATOR}`;
  const base = (topic: string, groupId: string) => {
    const head = topicPart(topic);
    return head + fit(clean(groupId), MAX_NAME - head.length - DLQ.length - FIFO.length);
  };
  return {
    topicPrefix: topicPart,
    groupQueue: (topic, groupId) => `${base(topic, groupId)}${FIFO}`,
    deadLetterQueue: (topic, groupId) => `${base(topic, groupId)}${DLQ}${FIFO}`,
    isGroupQueueOf(topic, queueName) {
      const head = topicPart(topic);
      if (!queueName.startsWith(head) || !queueName.endsWith(FIFO) || queueName.endsWith(`${DLQ}${FIFO}`)) return false;
      // "a--b--g.fifo" belongs to topic "a--b", not to topic "a".
      return !queueName.slice(head.length).includes(SEPARATOR);
    },
  };
}

/** The queue's name: the last path segment of its URL. */
export const queueNameOf = (url: string): string => url.slice(url.lastIndexOf('/') + 1);

/** MessageGroupId / MessageDeduplicationId allow 128 printable ASCII characters. */
export function fitId(id: string): string {
  return /^[\x21-\x7e]{1,128}$/.test(id) ? id : createHash('sha256').update(id).digest('hex');
}

/** A stable, non-negative 31-bit partition number for a message group (FNV-1a). */
export function partitionOf(groupId: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < groupId.length; i += 1) {
    hash ^= groupId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 1;
}
