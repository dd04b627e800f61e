import { context, defaultTextMapGetter, defaultTextMapSetter, isSpanContextValid, ROOT_CONTEXT, trace, type Context } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';

/**
 * W3C trace context in a CloudEvent's `traceparent` / `tracestate` extension attributes (the
 * CloudEvents distributed-tracing extension). The propagator is used directly, not the global one,
 * so a context is carried on even in a process where the SDK is not started.
 */
const w3c = new W3CTraceContextPropagator();

export interface TraceAttributes {
  traceparent?: string;
  tracestate?: string;
}

const carrierOf = (value: unknown): Record<string, string> => {
  const carrier: Record<string, string> = {};
  if (typeof value !== 'object' || value === null) return carrier;
  const { traceparent, tracestate } = value as Record<string, unknown>;
  if (typeof traceparent === 'string') carrier.traceparent = traceparent;
  if (typeof tracestate === 'string') carrier.tracestate = tracestate;
  return carrier;
};

/** The context an event was produced in (its span as remote parent), or the root context. */
export function contextOfEvent(event: unknown): Context {
  return w3c.extract(ROOT_CONTEXT, carrierOf(event), defaultTextMapGetter);
}

/** The trace context of `ctx`'s span as event attributes; empty when it has no valid span. */
export function traceAttributesOf(ctx: Context = context.active()): TraceAttributes {
  const carrier: TraceAttributes = {};
  w3c.inject(ctx, carrier, defaultTextMapSetter);
  return carrier;
}

/**
 * The event as produced in `ctx` (default: the active context): it carries the current span's
 * context, so whoever consumes it continues the trace as a child of this span. Unchanged when there
 * is no valid span (tracing off): it keeps the context its cause gave it.
 */
export function stampTrace<E extends TraceAttributes>(event: E, ctx: Context = context.active()): E {
  const stamp = traceAttributesOf(ctx);
  if (!stamp.traceparent) return event;
  const { tracestate: _dropped, ...rest } = event;
  return { ...rest, ...stamp } as E;
}

/** The trace id in a traceparent, if it is one. */
export function traceIdOf(traceparent: string | undefined): string | undefined {
  const spanContext = trace.getSpanContext(contextOfEvent({ traceparent }));
  return spanContext && isSpanContextValid(spanContext) ? spanContext.traceId : undefined;
}
