import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createApiClient } from '../../shared/cli/http-client.js';
import { createSseParser, followSse, type SseEvent } from '../../shared/cli/sse.js';
import { startEmbedded } from './helpers/embedded.js';

describe('the SSE parser', () => {
  it('assembles events across arbitrary chunk boundaries, with every line ending', () => {
    const stream =
      'retry: 250\n\n: ping\n\nid: 1-1\nevent: change\ndata: {"a":\ndata: 1}\n\r\nid: 1-2\r\nevent: change\r\ndata:no space\r\n\rdata: plain\n\nevent: end\ndata: {}\n\n';
    // Every split point, including between \r and \n.
    for (let cut = 0; cut <= stream.length; cut++) {
      const parser = createSseParser();
      const events = [...parser.push(stream.slice(0, cut)), ...parser.push(stream.slice(cut))];
      expect(events, `cut at ${cut}`).toEqual([
        { event: 'change', data: '{"a":\n1}', id: '1-1' },
        { event: 'change', data: 'no space', id: '1-2' },
        { event: 'message', data: 'plain', id: '1-2' },
        { event: 'end', data: '{}', id: '1-2' },
      ]);
      expect(parser.retryMs).toBe(250);
      expect(parser.lastEventId).toBe('1-2');
    }
  });

  it("drops a half-received event on reset, its id too: the last id is the last whole event's", () => {
    const parser = createSseParser();
    expect(parser.push('id: 7-1\nevent: change\ndata: {}\n\nid: 7-2\nevent: change\ndata: {"cut')).toHaveLength(1);
    expect(parser.lastEventId).toBe('7-1');
    parser.reset();
    expect(parser.push('event: end\ndata: {}\n\n')).toEqual([{ event: 'end', data: '{}', id: '7-1' }]);
  });
});

describe('following a stream', () => {
  let server: Server | undefined;
  afterEach(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    server = undefined;
  });

  it('reconnects after a dropped connection with Last-Event-ID and the bearer token, losing and repeating nothing', async () => {
    const requests: IncomingHttpHeaders[] = [];
    server = createServer((req, res) => {
      requests.push(req.headers);
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      if (requests.length === 1) {
        res.write('retry: 20\n\nid: 1-1\nevent: change\ndata: "a"\n\nid: 1-2\nevent: change\ndata: "b"\n\nid: 1-3\nevent: change\ndata: "par');
        setTimeout(() => res.destroy(), 20); // the connection breaks mid-event
      } else if (requests.length === 2) {
        res.end(); // the server closes without an event
      } else {
        res.end('id: 1-3\nevent: change\ndata: "c"\n\nevent: end\ndata: {}\n\n');
      }
    });
    await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
    const address = server.address();
    const client = createApiClient({ url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`, token: 't0k' });
    const seen: SseEvent[] = [];
    await followSse(client, '/events', { onEvent: (e) => (seen.push(e), e.event === 'end' ? 'stop' : undefined) });
    expect(seen.map((e) => e.data)).toEqual(['"a"', '"b"', '"c"', '{}']);
    expect(requests.map((h) => h['last-event-id'])).toEqual([undefined, '1-2', '1-2']);
    expect(requests.every((h) => h.authorization === 'Bearer t0k')).toBe(true);
  });

  it('resumes a workflow stream of the real API after a given event id', { timeout: 60_000 }, async () => {
    const embedded = await startEmbedded();
    try {
      const { body } = await embedded.post<{ workflowId: string }>('/v1/tasks', { description: 'Research AI market trends and create presentation' });
      await embedded.settle(body.workflowId);
      const client = createApiClient({ url: embedded.baseUrl });
      const path = `/v1/workflows/${body.workflowId}/events`;
      const all: SseEvent[] = [];
      await followSse(client, path, { onEvent: (e) => (all.push(e), e.event === 'end' ? 'stop' : undefined) });
      const changes = all.filter((e) => e.event === 'change');
      expect(changes.length).toBeGreaterThan(5);
      const rest: SseEvent[] = [];
      await followSse(client, path, { lastEventId: changes[2]!.id, onEvent: (e) => (rest.push(e), e.event === 'end' ? 'stop' : undefined) });
      expect(rest.filter((e) => e.event === 'change').map((e) => e.id)).toEqual(changes.slice(3).map((e) => e.id));
      await expect(followSse(client, '/v1/workflows/wf_nope/events', { onEvent: () => 'stop' })).rejects.toThrow(/not found \(HTTP 404\)/);
    } finally {
      await embedded.stop();
    }
  });
});
