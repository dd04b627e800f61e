import type { ComponentChildren } from 'preact';
import type { LiveMode } from './live.js';
import { label } from './model.js';

export function StatusBadge({ status, testId }: { status: string; testId?: string }) {
  return (
    <span class={`badge status-${status}`} data-status={status} data-testid={testId}>
      <span class="dot" />
      {label(status)}
    </span>
  );
}

const liveText: Record<LiveMode, string> = { connecting: 'connecting…', live: 'live', polling: 'polling (stream down)', ended: 'finished' };

export function LiveIndicator({ mode }: { mode: LiveMode }) {
  return (
    <span class={`live live-${mode}`} data-testid="live-mode" data-mode={mode} title="How this page hears about changes">
      <span class="pulse" />
      {liveText[mode]}
    </span>
  );
}

export function Card({
  title,
  actions,
  children,
  class: extra,
}: {
  title?: ComponentChildren;
  actions?: ComponentChildren;
  children: ComponentChildren;
  class?: string;
}) {
  return (
    <section class={`card ${extra ?? ''}`}>
      {(title || actions) && (
        <header class="card-head">
          <h2>{title}</h2>
          <div class="card-actions">{actions}</div>
        </header>
      )}
      {children}
    </section>
  );
}

export function Meter({ value, max, tone }: { value: number; max: number; tone?: 'ok' | 'warn' | 'bad' }) {
  const ratio = max <= 0 ? 0 : Math.min(1, value / max);
  const computed = tone ?? (ratio >= 0.9 ? 'bad' : ratio >= 0.6 ? 'warn' : 'ok');
  return (
    <span class={`meter meter-${computed}`} title={`${value} / ${max}`}>
      <span style={{ width: `${Math.round(ratio * 100)}%` }} />
    </span>
  );
}

export function ErrorNote({ error }: { error: string | null }) {
  return error ? (
    <div class="note note-error" role="alert">
      {error}
    </div>
  ) : null;
}

export const message = (error: unknown) => (error instanceof Error ? error.message : String(error));
