import type { ApiClient } from './http-client.js';
import { ApiError, UnreachableError } from './http-client.js';

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/**
 * An incremental Server-Sent Events parser (the WHATWG event-stream rules): chunks in, whole
 * events out. It remembers the last event id and the server's `retry:` across reconnects.
 */
export function createSseParser() {
  let buffer = '';
  let data: string[] = [];
  let type = '';
  /** The id of the event being received; it becomes the last event id only once that event is whole. */
  let idBuffer: string | undefined;
  let lastEventId: string | undefined;
  let retryMs: number | undefined;

  const line = (text: string): SseEvent | null => {
    if (text === '') {
      lastEventId = idBuffer;
      const event = data.length > 0 ? { event: type || 'message', data: data.join('\n'), ...(lastEventId !== undefined ? { id: lastEventId } : {}) } : null;
      data = [];
      type = '';
      return event;
    }
    if (text.startsWith(':')) return null;
    const colon = text.indexOf(':');
    const field = colon === -1 ? text : text.slice(0, colon);
    let value = colon === -1 ? '' : text.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    if (field === 'data') data.push(value);
    else if (field === 'event') type = value;
    else if (field === 'id' && !value.includes('\0')) idBuffer = value;
    else if (field === 'retry' && /^\d+$/.test(value)) retryMs = Number(value);
    return null;
  };

  return {
    push(chunk: string): SseEvent[] {
      buffer += chunk;
      const events: SseEvent[] = [];
      for (;;) {
        const match = /\r\n|\r|\n/.exec(buffer);
        // A trailing \r may be the first half of \r\n: wait for the next chunk.
        if (!match || (match[0] === '\r' && match.index === buffer.length - 1)) break;
        const event = line(buffer.slice(0, match.index));
        buffer = buffer.slice(match.index + match[0].length);
        if (event) events.push(event);
      }
      return events;
    },
    /** Drops a half-received event (the connection broke); keeps the last id and retry. */
    reset() {
      idBuffer = lastEventId;
      buffer = '';
      data = [];
      type = '';
    },
    get lastEventId() {
      return lastEventId;
    },
    get retryMs() {
      return retryMs;
    },
  };
}
export type SseParser = ReturnType<typeof createSseParser>;

export interface FollowOptions {
  /** Resume after this event id (sent as Last-Event-ID). */
  lastEventId?: string;
  /** Called per event, in order; return 'stop' to close the stream and resolve. */
  onEvent(event: SseEvent): 'stop' | void | Promise<'stop' | void>;
  /** Reconnects in a row without a single event before giving up. */
  maxReconnects?: number;
  /** Delay before a reconnect when the server sent no `retry:`. */
  reconnectDelayMs?: number;
}

const retriable = (error: unknown) => error instanceof UnreachableError || (error instanceof ApiError && error.retriable);

/**
 * Follows an event stream until `onEvent` says stop. A dropped connection (or a stream the server
 * closed early) is reopened with Last-Event-ID, so no event is lost or seen twice. The first
 * connection is not retried: an unknown id or an unreachable server fails at once.
 */
export async function followSse(client: ApiClient, path: string, options: FollowOptions): Promise<void> {
  const parser = createSseParser();
  let lastEventId = options.lastEventId;
  let connected = false;
  let failures = 0;
  for (;;) {
    let response: Response | null = null;
    try {
      response = await client.open(path, lastEventId !== undefined ? { 'last-event-id': lastEventId } : {});
      connected = true;
      if (!response.body) throw new UnreachableError(client.baseUrl, new Error('the event stream has no body'));
      const decoder = new TextDecoder();
      for await (const chunk of response.body) {
        for (const event of parser.push(decoder.decode(chunk, { stream: true }))) {
          failures = 0;
          lastEventId = parser.lastEventId;
          // Leaving the loop cancels the body, which closes the connection.
          if ((await options.onEvent(event)) === 'stop') return;
        }
      }
    } catch (error) {
      if (!connected || !(retriable(error) || error instanceof TypeError)) throw error;
      await response?.body?.cancel().catch(() => undefined);
    }
    parser.reset();
    failures += 1;
    if (failures > (options.maxReconnects ?? 10)) throw new UnreachableError(client.baseUrl, new Error(`the event stream closed ${failures} times in a row`));
    await new Promise((resolve) => setTimeout(resolve, parser.retryMs ?? options.reconnectDelayMs ?? 1_000));
  }
}
