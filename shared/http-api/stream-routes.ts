import { Router, type Request } from 'express';
import { changeCursorSchema, streamQuerySchema, type StateChangeRecord } from '../api/stream.js';
import { workflowIdParamSchema } from '../api/requests.js';
import { terminalWorkflowStatuses, type WorkflowStatus } from '../domain/vocabulary.js';
import { NotFoundError } from '../errors.js';
import type { ChangePosition } from '../ports/change-log.port.js';
import type { Runtime } from '../runtime/runtime.js';
import { feedStart, positionOf, type ChangeHub } from './streams/change-hub.js';
import { openEventStream, type EventStream } from './streams/sse.js';
import { principalOf } from './auth/middleware.js';
import { canSee, seesEverything, type Visible } from './auth/scope.js';

export interface StreamOptions {
  maxBufferedBytes?: number;
  heartbeatMs?: number;
  /** How long a stream of a finished workflow waits for its final change before ending on the stored status. */
  endGraceMs?: number;
}

const isTerminal = (status: string) => terminalWorkflowStatuses.includes(status as WorkflowStatus);

/** `Last-Event-ID` (what EventSource sends on reconnect) wins over `?after=`. */
function resumeFrom(req: Request): ChangePosition | undefined {
  const { after } = streamQuerySchema.parse(req.query);
  const header = req.get('Last-Event-ID');
  const cursor = header !== undefined && header !== '' ? changeCursorSchema.parse(header) : after;
  return cursor === undefined ? undefined : positionOf(cursor);
}

/** GET /v1/workflows/:id/events and GET /v1/events: committed state changes as Server-Sent Events. */
export function createStreamRoutes(runtime: Runtime, hub: ChangeHub, options: StreamOptions = {}): Router {
  const { store } = runtime.ports;
  const { streamClients, streamClientsDropped } = runtime.metrics;
  const router = Router();
  const open = (req: Request, res: Parameters<typeof openEventStream>[1], kind: 'workflow' | 'all', onClose: () => void) => {
    streamClients.inc({ stream: kind });
    return openEventStream(req, res, {
      maxBufferedBytes: options.maxBufferedBytes ?? 1024 * 1024,
      heartbeatMs: options.heartbeatMs,
      onEnd(reason) {
        streamClients.dec({ stream: kind });
        if (reason === 'dropped') {
          streamClientsDropped.inc({ stream: kind });
          runtime.logger.warn('stream client dropped: it did not read fast enough', { path: req.path });
        }
        onClose();
      },
    });
  };

  router.get('/v1/workflows/:id/events', async (req, res) => {
    const { id } = workflowIdParamSchema.parse(req.params);
    const after = resumeFrom(req) ?? feedStart;
    const known = await store.getWorkflow(id);
    if (!known || !canSee(principalOf(res), known)) throw new NotFoundError(`workflow ${id}`);
    let unsubscribe = () => {};
    let graceTimer: NodeJS.Timeout | undefined;
    const stream = open(req, res, 'workflow', () => {
      clearTimeout(graceTimer);
      unsubscribe();
    });
    const finish = (status: string) => {
      stream.send('end', { workflowId: id, status });
      stream.end();
    };
    // The final workflow change may precede its transaction's last subtask changes: end once caught up.
    let finalStatus: string | undefined;
    const onChange = (change: StateChangeRecord) => {
      stream.send('change', change, change.cursor);
      if (change.kind === 'workflow' && isTerminal(change.status)) finalStatus = change.status;
    };
    const onCaughtUp = () => {
      if (finalStatus !== undefined && stream.open) finish(finalStatus);
    };
    try {
      unsubscribe = await hub.subscribe({ workflowId: id, after, onChange, onCaughtUp, onClose: () => stream.end() });
    } catch (error) {
      return failStream(stream, error);
    }
    if (!stream.open) return unsubscribe();
    // A finished workflow whose final change was pruned from the log (or is still on its way) ends on its stored status.
    const workflow = await store.getWorkflow(id);
    if (workflow && isTerminal(workflow.status)) {
      graceTimer = setTimeout(() => {
        if (stream.open) finish(workflow.status);
      }, options.endGraceMs ?? 2_000);
    }
  });

  // Who owns each workflow never changes: remembered, so a scoped stream reads the store once per workflow.
  const owners = new Map<string, Promise<Visible | null>>();
  const ownerOf = (workflowId: string): Promise<Visible | null> => {
    let owner = owners.get(workflowId);
    if (!owner) {
      if (owners.size >= 10_000) owners.delete(owners.keys().next().value!);
      owner = store.getWorkflow(workflowId).then((w) => (w ? { tenant: w.tenant, metadata: w.metadata } : null));
      owner.catch(() => owners.delete(workflowId));
      owners.set(workflowId, owner);
    }
    return owner;
  };

  router.get('/v1/events', async (req, res) => {
    const after = resumeFrom(req);
    const principal = principalOf(res);
    let unsubscribe = () => {};
    const stream = open(req, res, 'all', () => unsubscribe());
    // A scoped principal gets only the changes of workflows it may see, still in commit order.
    let queue = Promise.resolve();
    const onChange = seesEverything(principal)
      ? (change: StateChangeRecord) => stream.send('change', change, change.cursor)
      : (change: StateChangeRecord) => {
          queue = queue.then(async () => {
            const owner = await ownerOf(change.workflowId).catch(() => null);
            if (owner && canSee(principal, owner) && stream.open) stream.send('change', change, change.cursor);
          });
        };
    try {
      unsubscribe = await hub.subscribe({ after, onChange, onClose: () => stream.end() });
    } catch (error) {
      return failStream(stream, error);
    }
    if (!stream.open) unsubscribe();
  });
  return router;
}

/** The headers are gone once a stream opens: a failed history read is an `error` event, and the client reconnects. */
function failStream(stream: EventStream, error: unknown): void {
  stream.send('error', { error: 'dependency_unavailable', message: error instanceof Error ? error.message : String(error) });
  stream.end();
}
