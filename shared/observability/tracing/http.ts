import { context, defaultTextMapGetter, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { RequestHandler } from 'express';

const w3c = new W3CTraceContextPropagator();
/** Probes and scrapes arrive every few seconds: a trace each would bury the ones that matter. */
const probe = /^\/(health|ready|metrics)(\/|$)/;

/**
 * One server span per HTTP request (a child of the caller's `traceparent` header, if any), active
 * for the whole request: what the handlers log and the events they make belong to it. Its name is
 * the method and the matched route, once known (`POST /v1/tasks`).
 */
export function traceRequests(): RequestHandler {
  const tracer = trace.getTracer('amas-orchestration');
  return (req, res, next) => {
    if (probe.test(req.path)) {
      next();
      return;
    }
    const parent = w3c.extract(ROOT_CONTEXT, req.headers, defaultTextMapGetter);
    const span = tracer.startSpan(req.method, { kind: SpanKind.SERVER, attributes: { 'http.request.method': req.method, 'url.path': req.path } }, parent);
    const active = trace.setSpan(parent, span);
    // Body parsing and 'close' listeners run from the socket's callbacks: bind them to this request's context.
    context.bind(active, req);
    context.bind(active, res);
    res.once('close', () => {
      const route = (req.route as { path?: unknown } | undefined)?.path;
      if (typeof route === 'string') {
        span.updateName(`${req.method} ${req.baseUrl}${route}`);
        span.setAttribute('http.route', `${req.baseUrl}${route}`);
      }
      span.setAttribute('http.response.status_code', res.statusCode);
      if (res.statusCode >= 500) span.setStatus({ code: SpanStatusCode.ERROR });
      span.end();
    });
    context.with(active, next);
  };
}
