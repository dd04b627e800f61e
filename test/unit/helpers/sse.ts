/** One Server-Sent Event as a test reads it. */
export interface SseMessage {
  event: string;
  id?: string;
  data: unknown;
}

/**
 * Reads an event stream until `until` says stop, the server ends it, or the time runs out (then it
 * throws, naming what arrived). Parses the wire format itself, so the test checks what is really sent.
 */
export async function readStream(
  url: string,
  options: { headers?: Record<string, string>; until?: (m: SseMessage, all: SseMessage[]) => boolean; timeoutMs?: number; onOpen?: () => void } = {},
): Promise<{ status: number; messages: SseMessage[]; ended: boolean }> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), options.timeoutMs ?? 20_000);
  const messages: SseMessage[] = [];
  try {
    const response = await fetch(url, { headers: options.headers, signal: controller.signal });
    if (!response.ok || !response.body) return { status: response.status, messages, ended: true };
    options.onOpen?.();
    const decoder = new TextDecoder();
    let buffer = '';
    let stopped = false;
    reading: for await (const chunk of response.body) {
      buffer += decoder.decode(chunk as Uint8Array, { stream: true });
      let boundary: number;
      while ((boundary = buffer.indexOf('\n\n')) >= 0) {
        const block = buffer.slice(0, boundary);
        buffer = buffer.slice(boundary + 2);
        const message = parseBlock(block);
        if (!message) continue;
        messages.push(message);
        if (options.until?.(message, messages)) {
          stopped = true;
          break reading; // leaving the loop cancels the body
        }
      }
    }
    if (stopped) return { status: response.status, messages, ended: false };
    return { status: response.status, messages, ended: true };
  } catch (error) {
    if (controller.signal.aborted) {
      throw new Error(`stream ${url} timed out after ${messages.length} messages: ${JSON.stringify(messages.slice(-3))}`);
    }
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

function parseBlock(block: string): SseMessage | null {
  let event = 'message';
  let id: string | undefined;
  const data: string[] = [];
  for (const line of block.split('\n')) {
    if (line.startsWith(':') || line === '') continue;
    const colon = line.indexOf(':');
    const field = colon < 0 ? line : line.slice(0, colon);
    const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
    if (field === 'event') event = value;
    else if (field === 'id') id = value;
    else if (field === 'data') data.push(value);
  }
  if (data.length === 0) return null;
  return { event, id, data: JSON.parse(data.join('\n')) };
}
