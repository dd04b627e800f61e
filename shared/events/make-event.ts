import type { z } from 'zod';
import type { Clock } from '../ports/clock.port.js';
import type { Ids } from '../ports/ids.port.js';
import type { AnyCloudEvent } from './envelope.js';

export interface EventContext {
  ids: Ids;
  clock: Clock;
  source: string;
  /** The event being handled: emitted ids derive from it and its trace context is carried on. */
  cause?: Pick<AnyCloudEvent, 'id' | 'traceparent' | 'tracestate'>;
}

/** Builds a valid CloudEvent of one definition. The n-th event of a cause gets a derived id. */
export function makeEvent<T extends string, D extends z.ZodType>(
  definition: { type: T; data: D },
  data: z.infer<D>,
  context: EventContext,
  n = 0,
): { specversion: '1.0'; id: string; source: string; type: T; time: string; data: z.infer<D> } & Partial<AnyCloudEvent> {
  const workflowId = (data as { workflowId?: unknown }).workflowId;
  const id = context.cause ? context.ids.derivedId(context.cause.id, n) : context.ids.newId('evt');
  return {
    specversion: '1.0',
    id,
    source: context.source,
    type: definition.type,
    time: new Date(context.clock.now()).toISOString(),
    datacontenttype: 'application/json',
    ...(typeof workflowId === 'string' ? { workflowid: workflowId, subject: workflowId } : {}),
    ...(context.cause?.traceparent
      ? { traceparent: context.cause.traceparent, ...(context.cause.tracestate ? { tracestate: context.cause.tracestate } : {}) }
      : {}),
    data,
  };
}

/** ISO-8601 UTC of a clock reading (handlers may not touch Date themselves). */
export const isoTime = (ms: number): string => new Date(ms).toISOString();
export const msOf = (iso: string): number => Date.parse(iso);
