import { useEffect, useRef, useState } from 'preact/hooks';
import type { Change } from './api.js';
import { withAccessToken } from './auth.js';

/** How a page hears about changes: the SSE stream, polling while the stream is down, or done (the workflow ended). */
export type LiveMode = 'connecting' | 'live' | 'polling' | 'ended';

export interface FollowHandlers {
  onChange(change: Change): void;
  /** The workflow stream's `end` event: the workflow reached a terminal status. */
  onEnd?(status: string): void;
  /** Called every `pollMs` while the stream is down, so the page still moves. */
  poll(): void;
  onMode?(mode: LiveMode): void;
}

/**
 * Follows an SSE stream of state changes. EventSource reconnects by itself with Last-Event-ID; while it
 * is down the page polls instead, and when the browser gives up (an error answer) it is reopened from
 * the last cursor seen after `retryMs`. Returns the function that stops it all.
 */
export function follow(url: string, handlers: FollowHandlers, options: { pollMs?: number; retryMs?: number } = {}): () => void {
  const pollMs = options.pollMs ?? 1500;
  let source: EventSource | null = null;
  let pollTimer: ReturnType<typeof setInterval> | undefined;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let lastCursor: string | null = null;
  let stopped = false;

  const startPolling = () => {
    if (pollTimer !== undefined || stopped) return;
    handlers.onMode?.('polling');
    handlers.poll();
    pollTimer = setInterval(() => handlers.poll(), pollMs);
  };
  const stopPolling = () => {
    clearInterval(pollTimer);
    pollTimer = undefined;
  };
  const open = () => {
    const resumed = lastCursor === null ? url : `${url}${url.includes('?') ? '&' : '?'}after=${encodeURIComponent(lastCursor)}`;
    const current = new EventSource(withAccessToken(resumed));
    source = current;
    current.onopen = () => {
      stopPolling();
      handlers.onMode?.('live');
    };
    current.addEventListener('change', (event) => {
      const change = JSON.parse((event as MessageEvent<string>).data) as Change;
      lastCursor = change.cursor;
      handlers.onChange(change);
    });
    current.addEventListener('end', (event) => {
      current.close();
      stopPolling();
      handlers.onEnd?.((JSON.parse((event as MessageEvent<string>).data) as { status: string }).status);
      handlers.onMode?.('ended');
    });
    current.onerror = () => {
      if (stopped) return;
      startPolling();
      if (current.readyState === EventSource.CLOSED) retryTimer = setTimeout(open, options.retryMs ?? 5000);
    };
  };
  open();
  return () => {
    stopped = true;
    source?.close();
    stopPolling();
    clearTimeout(retryTimer);
  };
}

/** Follows `url` while the component is mounted; the handlers may change between renders. */
export function useFollow(url: string | null, handlers: Omit<FollowHandlers, 'onMode'>): LiveMode {
  const [mode, setMode] = useState<LiveMode>('connecting');
  const latest = useRef(handlers);
  latest.current = handlers;
  useEffect(() => {
    if (url === null) return;
    setMode('connecting');
    return follow(url, {
      onChange: (change) => latest.current.onChange(change),
      onEnd: (status) => latest.current.onEnd?.(status),
      poll: () => latest.current.poll(),
      onMode: setMode,
    });
  }, [url]);
  return mode;
}

/** Runs `fn` at most once per `ms`, on the trailing edge: a burst of changes costs one reload. */
export function useDebounced(fn: () => void, ms: number): () => void {
  const latest = useRef(fn);
  latest.current = fn;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useRef(() => {
    if (timer.current !== undefined) return;
    timer.current = setTimeout(() => {
      timer.current = undefined;
      latest.current();
    }, ms);
  }).current;
}
