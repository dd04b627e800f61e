import { OrchestrationError } from '../errors.js';
import type { AgentMessage } from './message-schema.js';

/** A request that no reply answered in time, after every retry; its sender's supervisor was told. */
export class MessageTimeoutError extends OrchestrationError {
  constructor(message: string) {
    super('MESSAGE_TIMEOUT', message, { retriable: false });
  }
}

interface Pending {
  requester: string;
  resolve: (reply: AgentMessage) => void;
}

/** Open requests by correlation id; a reply settles one when it comes back to the requester. */
export function createPendingRequests() {
  const open = new Map<string, Pending>();
  return {
    open(correlationId: string, requester: string): { reply: Promise<AgentMessage>; close: () => void } {
      let resolve!: (reply: AgentMessage) => void;
      const reply = new Promise<AgentMessage>((r) => (resolve = r));
      open.set(correlationId, { requester, resolve });
      return { reply, close: () => open.delete(correlationId) };
    },
    /** True when `message` is the reply to an open request of `recipient` (and then it is consumed here). */
    settle(recipient: string, message: AgentMessage): boolean {
      const pending = message.correlationId ? open.get(message.correlationId) : undefined;
      if (!pending || pending.requester !== recipient || message.senderId === recipient) return false;
      open.delete(message.correlationId!);
      pending.resolve(message);
      return true;
    },
    size: (): number => open.size,
  };
}
export type PendingRequests = ReturnType<typeof createPendingRequests>;

/** The reply, or null once `ms` passed; the timer never outlives the race. */
export async function within<T>(promise: Promise<T>, ms: number): Promise<T | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<null>((resolve) => (timer = setTimeout(() => resolve(null), ms)));
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export interface RequestLoop {
  retries: number;
  timeoutMs: number;
  reply: Promise<AgentMessage>;
  send: (attempt: number) => Promise<void>;
  onUnanswered: (attempt: number) => void;
}

/** Sends, waits a timeout, re-sends up to `retries` times; the reply to any attempt answers. */
export async function awaitReply(loop: RequestLoop): Promise<AgentMessage | null> {
  for (let attempt = 1; attempt <= loop.retries + 1; attempt++) {
    await loop.send(attempt);
    const reply = await within(loop.reply, loop.timeoutMs);
    if (reply) return reply;
    loop.onUnanswered(attempt);
  }
  return null;
}
