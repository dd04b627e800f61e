import { randomBytes } from 'node:crypto';
import type { Config } from '../../config.js';
import { stampTrace, type TraceAttributes } from './propagation.js';

/**
 * A new workflow's first event starts its trace: it carries the submitting request's span when the
 * SDK runs (sampled there, parent-based at ORCHESTRATION_TRACE_SAMPLE_RATE); without the SDK, a
 * fresh W3C context sampled at that rate, which every event it causes copies on (ids in logs and
 * events still correlate). Nothing with ORCHESTRATION_ENABLE_TRACING off.
 */
export function traceSubmitted<E extends TraceAttributes>(
  event: E,
  config: Pick<Config, 'ORCHESTRATION_ENABLE_TRACING' | 'ORCHESTRATION_TRACE_SAMPLE_RATE'>,
): E {
  if (!config.ORCHESTRATION_ENABLE_TRACING) return event;
  const stamped = stampTrace(event);
  if (stamped.traceparent) return stamped;
  const sampled = Math.random() < config.ORCHESTRATION_TRACE_SAMPLE_RATE ? '01' : '00';
  return { ...event, traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-${sampled}` };
}
