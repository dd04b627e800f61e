import { CreateQueueCommand, GetQueueAttributesCommand, GetQueueUrlCommand, ListQueuesCommand, QueueDoesNotExist, type SQSClient } from '@aws-sdk/client-sqs';
import { queueNameOf, type QueueNames } from './sqs-names.js';

export interface QueueSettings {
  /** Must exceed the longest handler run (and, for Lambda, the function timeout). */
  visibilityTimeoutSeconds: number;
  /** Receives after which SQS moves a record to the group's dead-letter queue. */
  maxReceiveCount: number;
  /** How long a publisher trusts its cached list of a topic's group queues. */
  registryTtlMs: number;
}

const RETENTION_SECONDS = String(14 * 24 * 3600); // the SQS maximum

/**
 * Creates and finds the FIFO queues of the bus. The registry of groups per topic is SQS itself
 * (ListQueues by name prefix), cached for `registryTtlMs`: a group created by another process is
 * seen by this publisher at most that long after its queue exists.
 */
export function createQueueRegistry(client: SQSClient, names: QueueNames, settings: QueueSettings) {
  const urls = new Map<string, string>();
  const groupsOf = new Map<string, { urls: string[]; at: number }>();

  async function create(name: string, attributes: Record<string, string>): Promise<string> {
    const cached = urls.get(name);
    if (cached) return cached;
    const { QueueUrl } = await client.send(new CreateQueueCommand({ QueueName: name, Attributes: { FifoQueue: 'true', ...attributes } }));
    if (!QueueUrl) throw new Error(`SQS returned no URL for queue ${name}`);
    urls.set(name, QueueUrl);
    return QueueUrl;
  }

  return {
    /** Idempotent: the group's queue (with a redrive policy to its dead-letter queue) exists. */
    async ensureGroup(topic: string, groupId: string): Promise<string> {
      const name = names.groupQueue(topic, groupId);
      const known = urls.get(name);
      if (known) return known;
      const dlqUrl = await create(names.deadLetterQueue(topic, groupId), { MessageRetentionPeriod: RETENTION_SECONDS });
      const { Attributes } = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ['QueueArn'] }));
      const url = await create(name, {
        ContentBasedDeduplication: 'false',
        VisibilityTimeout: String(settings.visibilityTimeoutSeconds),
        MessageRetentionPeriod: RETENTION_SECONDS,
        RedrivePolicy: JSON.stringify({ deadLetterTargetArn: Attributes?.QueueArn, maxReceiveCount: settings.maxReceiveCount }),
      });
      groupsOf.delete(topic);
      return url;
    },

    /** The URL of an existing group queue, or null when the group was never created. */
    async findGroup(topic: string, groupId: string): Promise<string | null> {
      const name = names.groupQueue(topic, groupId);
      const known = urls.get(name);
      if (known) return known;
      try {
        const { QueueUrl } = await client.send(new GetQueueUrlCommand({ QueueName: name }));
        if (QueueUrl) urls.set(name, QueueUrl);
        return QueueUrl ?? null;
      } catch (error) {
        if (error instanceof QueueDoesNotExist) return null;
        throw error;
      }
    },

    /** Every group queue of the topic: where a publish fans out to. */
    async groupQueues(topic: string): Promise<string[]> {
      const cached = groupsOf.get(topic);
      if (cached && Date.now() - cached.at < settings.registryTtlMs) return cached.urls;
      const found: string[] = [];
      let NextToken: string | undefined;
      do {
        const page = await client.send(new ListQueuesCommand({ QueueNamePrefix: names.topicPrefix(topic), MaxResults: 1000, NextToken }));
        for (const url of page.QueueUrls ?? []) if (names.isGroupQueueOf(topic, queueNameOf(url))) found.push(url);
        NextToken = page.NextToken;
      } while (NextToken);
      groupsOf.set(topic, { urls: found, at: Date.now() });
      return found;
    },
  };
}
export type QueueRegistry = ReturnType<typeof createQueueRegistry>;
