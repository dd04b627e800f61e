export { startTracing, exporterConfigured, flushTraces, type Tracing } from './sdk.js';
export { contextOfEvent, stampTrace, traceAttributesOf, traceIdOf, type TraceAttributes } from './propagation.js';
export { eventAttributes, inEventSpan, inSpan, markFailed, traceLogFields } from './spans.js';
export { traceRequests } from './http.js';
export { traceSubmitted } from './submit.js';
