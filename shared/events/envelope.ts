import { z } from 'zod';

/** CloudEvents 1.0 attributes shared by every event, plus our `workflowid` and the distributed-tracing `traceparent`/`tracestate` extensions. */
export const cloudEventAttributes = {
  specversion: z.literal('1.0'),
  id: z.string().min(1),
  source: z.string().min(1),
  type: z.string().min(1),
  time: z.iso.datetime({ offset: true }),
  subject: z.string().min(1).optional(),
  datacontenttype: z.literal('application/json').optional(),
  workflowid: z.string().min(1).optional(),
  traceparent: z
    .string()
    .regex(/^[0-9a-f]{2}-[0-9a-f]{32}-[0-9a-f]{16}-[0-9a-f]{2}$/)
    .optional(),
  tracestate: z.string().max(512).optional(),
  /** When the work a re-driving event carries on was lost (set by the runtime: shared/engine/recovery-timing.ts). */
  lostat: z.iso.datetime({ offset: true }).optional(),
};

/** Any well-formed CloudEvent, whatever its type: what the edges accept before routing. */
export const cloudEventSchema = z.object({ ...cloudEventAttributes, data: z.unknown() });
export type AnyCloudEvent = z.infer<typeof cloudEventSchema>;

/** One event definition: its type name and the schema of the whole envelope. */
export function defineEvent<const T extends string, D extends z.ZodType>(type: T, data: D) {
  const schema = z.object({ ...cloudEventAttributes, type: z.literal(type), data });
  return { type, data, schema };
}
