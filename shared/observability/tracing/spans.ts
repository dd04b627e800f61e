import { context, INVALID_SPAN_CONTEXT, isSpanContextValid, SpanKind, SpanStatusCode, trace, type Attributes, type Span } from '@opentelemetry/api';
import { contextOfEvent } from './propagation.js';

/** Without a started SDK every call here hits OpenTelemetry's no-op tracer. */
const tracer = () => trace.getTracer('amas-orchestration');

/** Marks the active span failed (an error handled without rethrowing it, e.g. dead-lettered). */
export function markFailed(error: unknown, span: Span | undefined = trace.getActiveSpan()): void {
  if (!span) return;
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
}

async function runIn<T>(span: Span, parent: ReturnType<typeof context.active>, work: (span: Span) => Promise<T>): Promise<T> {
  try {
    return await context.with(trace.setSpan(parent, span), () => work(span));
  } catch (error) {
    markFailed(error, span);
    throw error;
  } finally {
    span.end();
  }
}

/** The CloudEvent attributes worth seeing on a span (read loosely: the event may be invalid). */
export function eventAttributes(value: unknown): Attributes {
  if (typeof value !== 'object' || value === null) return {};
  const { id, type, workflowid } = value as Record<string, unknown>;
  const attributes: Attributes = {};
  if (typeof id === 'string') attributes['cloudevents.event_id'] = id;
  if (typeof type === 'string') attributes['cloudevents.event_type'] = type;
  if (typeof workflowid === 'string') attributes['amas.workflow_id'] = workflowid;
  return attributes;
}

/**
 * One consumer span for the handling of one event, a child of the span that produced it (its
 * `traceparent`), active while `work` runs: spans started inside, log lines written inside and
 * events stamped inside (stampTrace) belong to it.
 */
export function inEventSpan<T>(name: string, event: unknown, attributes: Attributes, work: (span: Span) => Promise<T>): Promise<T> {
  const parent = contextOfEvent(event);
  const span = tracer().startSpan(name, { kind: SpanKind.CONSUMER, attributes: { ...eventAttributes(event), ...attributes } }, parent);
  return runIn(span, parent, work);
}

/** A child span of the active one around one step (handler, commit, publish). */
export function inSpan<T>(name: string, work: (span: Span) => Promise<T>, attributes: Attributes = {}): Promise<T> {
  const parent = context.active();
  const current = trace.getSpan(parent);
  // Nothing is recorded here (tracing off, or this trace not sampled): no child span either.
  if (!current?.isRecording()) return work(current ?? trace.wrapSpanContext(INVALID_SPAN_CONTEXT));
  return runIn(tracer().startSpan(name, { kind: SpanKind.INTERNAL, attributes }, parent), parent, work);
}

/** The active span's ids for a log line: `trace_id`, `span_id` (nothing outside a span). */
export function traceLogFields(): { trace_id?: string; span_id?: string } {
  const spanContext = trace.getActiveSpan()?.spanContext();
  return spanContext && isSpanContextValid(spanContext) ? { trace_id: spanContext.traceId, span_id: spanContext.spanId } : {};
}
