import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

/** One recorded answer: the assistant's text (a chat completion), or a raw HTTP reply (an error, a 429). */
export type Recorded =
  | { content: string; usage?: { prompt_tokens: number; completion_tokens: number }; delayMs?: number }
  | { status: number; body: unknown; headers?: Record<string, string>; delayMs?: number };

export interface ReceivedRequest {
  model: string;
  messages: { role: string; content: string }[];
  response_format?: { type: string; json_schema?: { name: string; schema: unknown } };
  authorization: string | undefined;
}

export interface OpenAiServer {
  /** The base URL to put in LLM_BASE_URL (ends in /v1). */
  baseUrl: string;
  /** Queues answers, served in order; when the queue is empty `fallback` answers (default: a 500). */
  enqueue(...answers: Recorded[]): void;
  fallback(answer: (request: ReceivedRequest) => Recorded): void;
  /** Every chat request received, oldest first. */
  requests(): ReceivedRequest[];
  stop(): Promise<void>;
}

/**
 * An OpenAI-compatible endpoint on loopback (POST /v1/chat/completions) that answers from recorded
 * answers: the real HTTP and JSON the `openai` client speaks, with the model's replies scripted.
 */
export async function startOpenAiServer(): Promise<OpenAiServer> {
  const queue: Recorded[] = [];
  const received: ReceivedRequest[] = [];
  let otherwise: (request: ReceivedRequest) => Recorded = () => ({
    status: 500,
    body: { error: { message: 'no recorded answer left', type: 'server_error' } },
  });
  const sockets = new Set<Socket>();

  const server: Server = createServer((req, res) => {
    void (async () => {
      if (req.method !== 'POST' || !req.url?.endsWith('/chat/completions')) {
        res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: 'not found' } }));
        return;
      }
      const body = JSON.parse(await readBody(req)) as Omit<ReceivedRequest, 'authorization'>;
      const request: ReceivedRequest = { ...body, authorization: req.headers.authorization };
      received.push(request);
      const answer = queue.shift() ?? otherwise(request);
      if (answer.delayMs) await new Promise((resolve) => setTimeout(resolve, answer.delayMs));
      if (res.destroyed) return;
      if ('status' in answer) {
        res.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body));
        return;
      }
      const usage = answer.usage ?? { prompt_tokens: 100, completion_tokens: 50 };
      res.writeHead(200, { 'content-type': 'application/json' }).end(
        JSON.stringify({
          id: `chatcmpl-${received.length}`,
          object: 'chat.completion',
          created: Math.floor(Date.now() / 1000),
          model: request.model,
          choices: [{ index: 0, finish_reason: 'stop', message: { role: 'assistant', content: answer.content, refusal: null } }],
          usage: { ...usage, total_tokens: usage.prompt_tokens + usage.completion_tokens },
        }),
      );
    })().catch((error: unknown) => {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: { message: String(error) } }));
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    enqueue: (...answers) => void queue.push(...answers),
    fallback: (answer) => void (otherwise = answer),
    requests: () => [...received],
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}
