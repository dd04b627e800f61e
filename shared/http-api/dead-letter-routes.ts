import { Router } from 'express';
import { deadLetterIdParamSchema, deadLetterQuerySchema } from '../api/stream.js';
import { NotFoundError } from '../errors.js';
import { allTopics, deadLetterTopic } from '../events/topics.js';
import type { AnyCloudEvent } from '../events/envelope.js';
import type { Delivery } from '../ports/index.js';
import type { Runtime } from '../runtime/runtime.js';
import { deadLetterType } from '../engine/dead-letter.js';
import { principalOf } from './auth/middleware.js';
import type { Principal } from './auth/principal.js';
import { canSee, seesEverything } from './auth/scope.js';

interface DeadLetterData {
  reason?: string;
  code?: string;
  consumer?: string;
  topic?: string;
  partition?: number;
  offset?: number;
  original?: unknown;
  headers?: Record<string, string>;
}

/** A dead letter as the API lists it; the record itself stays on `<topic>.dlq` (read, never consumed). */
function toDeadLetter(delivery: Delivery) {
  const event = delivery.value as { id?: string; type?: string; time?: string; data?: DeadLetterData } | null;
  if (!event || event.type !== deadLetterType || typeof event.id !== 'string') return null;
  const data = event.data ?? {};
  return {
    id: event.id,
    topic: data.topic ?? delivery.topic.replace(/\.dlq$/, ''),
    partition: data.partition ?? null,
    offset: data.offset ?? null,
    consumer: data.consumer ?? null,
    reason: data.reason ?? 'unknown',
    code: data.code ?? null,
    at: event.time ?? new Date(delivery.timestamp).toISOString(),
    key: delivery.key,
    original: data.original ?? null,
    headers: data.headers ?? {},
  };
}
type DeadLetter = NonNullable<ReturnType<typeof toDeadLetter>>;
/** GET /v1/dead-letters, as clients (the CLI, the console) read it. */
export interface DeadLetterList {
  deadLetters: (DeadLetter & { redrivenAt: string | null })[];
  total: number;
}

/** GET /v1/dead-letters and POST /v1/dead-letters/:id/redrive (publish the original record to its topic again). */
export function createDeadLetterRoutes(runtime: Runtime): Router {
  const { bus } = runtime;
  const redrives = runtime.deadLetterRedrives;
  const router = Router();

  const letters = async (topic?: string): Promise<DeadLetter[]> => {
    const sources = topic === undefined ? allTopics : [topic];
    const found: DeadLetter[] = [];
    for (const source of sources) {
      for (const delivery of await bus.read(deadLetterTopic(source))) {
        const letter = toDeadLetter(delivery);
        if (letter) found.push(letter);
      }
    }
    return found.sort((a, b) => (a.at < b.at ? 1 : a.at > b.at ? -1 : 0));
  };

  /** A scoped principal sees the dead letters of its own workflows; one naming no workflow only an every-tenant operator. */
  const visible = async (principal: Principal, found: DeadLetter[]): Promise<DeadLetter[]> => {
    if (seesEverything(principal)) return found;
    const kept: DeadLetter[] = [];
    for (const letter of found) {
      const workflowId = (letter.original as { data?: { workflowId?: unknown } } | null)?.data?.workflowId;
      const workflow = typeof workflowId === 'string' ? await runtime.ports.store.getWorkflow(workflowId) : null;
      if (workflow && canSee(principal, workflow)) kept.push(letter);
    }
    return kept;
  };

  router.get('/v1/dead-letters', async (req, res) => {
    const query = deadLetterQuerySchema.parse(req.query);
    const all = await visible(principalOf(res), await letters(query.topic));
    const page = all.slice(0, query.limit);
    const redriven = redrives ? await redrives.redrivenAt(page.map((l) => l.id)) : new Map<string, string>();
    const answer: DeadLetterList = { deadLetters: page.map((l) => ({ ...l, redrivenAt: redriven.get(l.id) ?? null })), total: all.length };
    res.json(answer);
  });

  router.post('/v1/dead-letters/:id/redrive', async (req, res) => {
    const { id } = deadLetterIdParamSchema.parse(req.params);
    const letter = (await visible(principalOf(res), await letters())).find((l) => l.id === id);
    if (!letter) throw new NotFoundError(`dead letter ${id}`);
    // The record goes back as it came (a poison record dead-letters again, under a new id).
    const headers = Object.fromEntries(Object.entries(letter.headers).filter(([name]) => !name.startsWith('ce_')));
    await bus.publish(letter.topic, [{ key: letter.key ?? letter.topic, event: letter.original as AnyCloudEvent }], headers);
    const redrivenAt = redrives ? await redrives.mark(id, letter.topic) : new Date().toISOString();
    runtime.logger.info('dead letter re-driven', { deadLetterId: id, topic: letter.topic, reason: letter.reason });
    res.status(202).json({ id, topic: letter.topic, redrivenAt });
  });
  return router;
}
