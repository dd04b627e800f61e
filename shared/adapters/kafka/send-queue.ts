import type { Message, TopicMessages } from 'kafkajs';

interface Pending {
  topic: string;
  messages: Message[];
  resolve(): void;
  reject(error: unknown): void;
}

/** Records gathered into one request at most (well under the broker's default 1 MB request size for events of a few KB). */
const MAX_RECORDS_PER_SEND = 200;

/**
 * Group commit for the producer: while one send is in flight, concurrent publishes queue up and
 * leave together in the next request (one acks=all round trip for many). Each publish resolves when
 * the request carrying it is acknowledged, or rejects with its error. Per topic, records keep the
 * order in which publish was called, so per-key order holds.
 */
export function createSendQueue(send: (topicMessages: TopicMessages[]) => Promise<void>) {
  const queue: Pending[] = [];
  let sending = false;

  const take = (): Pending[] => {
    let records = 0;
    let n = 0;
    while (n < queue.length && (n === 0 || records + (queue[n] as Pending).messages.length <= MAX_RECORDS_PER_SEND)) {
      records += (queue[n] as Pending).messages.length;
      n += 1;
    }
    return queue.splice(0, n);
  };

  const pump = async (): Promise<void> => {
    while (queue.length > 0) {
      const batch = take();
      const byTopic = new Map<string, Message[]>();
      for (const { topic, messages } of batch) {
        const list = byTopic.get(topic);
        if (list) list.push(...messages);
        else byTopic.set(topic, [...messages]);
      }
      try {
        await send([...byTopic].map(([topic, messages]) => ({ topic, messages })));
        for (const pending of batch) pending.resolve();
      } catch (error) {
        for (const pending of batch) pending.reject(error);
      }
    }
    sending = false;
  };

  return (topic: string, messages: Message[]): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      queue.push({ topic, messages, resolve, reject });
      if (!sending) {
        sending = true;
        void pump();
      }
    });
}
