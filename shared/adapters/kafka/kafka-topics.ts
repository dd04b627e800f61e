import type { Admin } from 'kafkajs';

export interface TopicSettings {
  partitions: number;
  /** -1 lets the broker's `default.replication.factor` decide. */
  replicationFactor: number;
  /** How long a new topic may take to get a leader for every partition. */
  readyTimeoutMs?: number;
}

/**
 * Creates each topic once with our partition count (idempotent: an existing topic, or one another
 * process created a moment earlier, is fine) and remembers it; a failed attempt is forgotten so the
 * next publish tries again.
 */
export function createTopicEnsurer(admin: () => Promise<Admin>, settings: TopicSettings) {
  const known = new Map<string, Promise<void>>();
  async function create(topic: string): Promise<void> {
    const client = await admin();
    await client.createTopics({
      topics: [{ topic, numPartitions: settings.partitions, replicationFactor: settings.replicationFactor }],
      waitForLeaders: false,
    });
    await untilLed(client, topic, settings.readyTimeoutMs ?? 15_000);
  }
  return (topic: string): Promise<void> => {
    let pending = known.get(topic);
    if (!pending) {
      pending = create(topic).catch((error: unknown) => {
        known.delete(topic);
        throw error;
      });
      known.set(topic, pending);
    }
    return pending;
  };
}

/**
 * Waits until every partition has a leader. kafkajs's own `waitForLeaders` tolerates only
 * LEADER_NOT_AVAILABLE, while a KRaft broker briefly answers UNKNOWN_TOPIC_OR_PARTITION for a topic
 * it has just created — and a topic another process created a moment ago needs the same wait.
 */
async function untilLed(admin: Admin, topic: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
      const partitions = topics[0]?.partitions ?? [];
      if (partitions.length > 0 && partitions.every((p) => p.leader >= 0)) return;
    } catch (error) {
      if (Date.now() > deadline) throw error;
    }
    if (Date.now() > deadline) throw new Error(`topic ${topic} has no leader for every partition after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Records a group has not committed, over all partitions; a group with no commit counts from the low watermark. */
export async function groupLag(admin: Admin, groupId: string, topic: string): Promise<number> {
  let watermarks: Awaited<ReturnType<Admin['fetchTopicOffsets']>>;
  try {
    watermarks = await admin.fetchTopicOffsets(topic);
  } catch (error) {
    if ((error as { type?: string }).type === 'UNKNOWN_TOPIC_OR_PARTITION') return 0;
    throw error;
  }
  const [committed] = await admin.fetchOffsets({ groupId, topics: [topic] });
  const at = new Map((committed?.partitions ?? []).map((p) => [p.partition, Number(p.offset)]));
  let lag = 0;
  for (const { partition, high, low } of watermarks) {
    const from = Math.max(at.get(partition) ?? -1, Number(low));
    lag += Math.max(0, Number(high) - from);
  }
  return lag;
}
