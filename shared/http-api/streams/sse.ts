import type { Request, Response } from 'express';

export interface EventStreamOptions {
  /** Bytes a client may leave unread in this process before it is dropped (it never slows the feed). */
  maxBufferedBytes: number;
  heartbeatMs?: number;
  /** Called once when the stream ends, whoever ended it; `dropped` when the client could not keep up. */
  onEnd?(reason: 'client_closed' | 'dropped' | 'ended'): void;
}

export interface EventStream {
  send(event: string, data: unknown, id?: string): void;
  end(): void;
  readonly open: boolean;
}

/**
 * A Server-Sent Events response. Writes never wait: a client whose unread bytes pass the bound
 * is disconnected (it can resume with Last-Event-ID) instead of holding memory or the producer.
 */
export function openEventStream(req: Request, res: Response, options: EventStreamOptions): EventStream {
  res.status(200);
  res.setHeader('Content-Type', 'text/event-stream; charset=utf-8');
  res.setHeader('Cache-Control', 'no-cache, no-transform');
  res.setHeader('Connection', 'keep-alive');
  res.setHeader('X-Accel-Buffering', 'no'); // proxies (nginx) must not buffer a stream
  res.flushHeaders();
  res.write('retry: 2000\n\n');
  let open = true;
  const finish = (reason: 'client_closed' | 'dropped' | 'ended') => {
    if (!open) return;
    open = false;
    clearInterval(heartbeat);
    options.onEnd?.(reason);
  };
  const heartbeat = setInterval(() => write(': ping\n\n'), options.heartbeatMs ?? 15_000);
  heartbeat.unref();
  req.on('close', () => finish('client_closed'));
  res.on('error', () => finish('client_closed'));

  function write(chunk: string): void {
    if (!open) return;
    if (res.writableLength > options.maxBufferedBytes) {
      finish('dropped');
      res.destroy();
      return;
    }
    res.write(chunk);
  }

  return {
    get open() {
      return open;
    },
    send(event, data, id) {
      write(`${id !== undefined ? `id: ${id}\n` : ''}event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    end() {
      if (!open) return;
      finish('ended');
      res.end();
    },
  };
}
