import { randomBytes, randomUUID } from 'node:crypto';
import { isDeepStrictEqual } from 'node:util';
import express, { type Request, type Response } from 'express';
import { cancelRequestSchema, listWorkflowsQuerySchema, submitTaskRequestSchema, workflowIdParamSchema } from '../../api/requests.js';
import { OrchestrationError, NotFoundError } from '../../errors.js';
import { isoTime, makeEvent, taskSubmitted } from '../../events/index.js';
import { retry } from '../../retry.js';
import { control, type ControlCommand } from '../../../functions/control/handler.js';
import type { Runtime } from '../runtime.js';
import { countFinished } from '../metrics.js';
import { logStateChange, rememberingReads, toOutbox } from '../process-event.js';
import { errorHandler } from './errors.js';
import { createMessagesRouter } from './messages-routes.js';
import { createLastKnownReads, type Read } from './last-known-reads.js';
import { createOpsRoutes } from './ops-routes.js';
import { createConsoleRoutes } from './console-routes.js';
import { requestLog } from './request-log.js';
import { createStreamRoutes, type StreamOptions } from './stream-routes.js';
import { createDeadLetterRoutes } from './dead-letter-routes.js';
import { workflowView } from './workflow-view.js';

/** The HTTP API and trigger service over one runtime's ports. */
export function createApiApp(runtime: Runtime, options: { stream?: StreamOptions } = {}) {
  const { ports, relay, logger } = runtime;
  const { store, config, ids, clock, directory } = ports;
  const app = express();
  app.disable('x-powered-by');
  app.use(requestLog(logger));
  app.use(express.json({ limit: '1mb' }));
  const reads = createLastKnownReads({ enabled: config.ORCHESTRATION_GRACEFUL_DEGRADATION, now: () => clock.now() });
  /** Answers a read, saying when it is the last known answer of a dependency that is down. */
  const answer = (res: Response, read: Read<unknown>) => {
    if (read.staleSince !== undefined) {
      res.setHeader('Warning', '110 - "Response is Stale"');
      res.setHeader('X-Amas-Stale-Since', new Date(read.staleSince).toISOString());
    }
    res.json(read.value);
  };

  app.post('/v1/tasks', async (req: Request, res: Response) => {
    const body = submitTaskRequestSchema.parse(req.body ?? {});
    if (config.ORCHESTRATION_ENABLE_BACKPRESSURE && (await store.countActiveWorkflows()) >= config.ORCHESTRATION_MAX_WORKFLOWS) {
      res.setHeader('Retry-After', '5');
      throw new OrchestrationError('BACKPRESSURE', `${config.ORCHESTRATION_MAX_WORKFLOWS} workflows are active (ORCHESTRATION_MAX_WORKFLOWS); retry later`);
    }
    const workflowId = ids.newId('wf');
    const submitted = makeEvent(
      taskSubmitted,
      { workflowId, description: body.description, priority: body.priority, metadata: body.metadata, requireApproval: body.requireApproval },
      { ids, clock, source: 'amas/api', ...traceContext(config) },
    );
    // The workflow row keeps requireApproval in its metadata: complete reads it when the last subtask passes.
    const metadata = body.requireApproval ? { ...body.metadata, requireApproval: true } : body.metadata;
    const { workflow, created } = await store.createWorkflow(
      { id: workflowId, description: body.description, priority: body.priority, metadata, idempotencyKey: body.idempotencyKey ?? null, createdAt: isoTime(clock.now()) },
      toOutbox([submitted]),
    );
    // A key names one submission: the same key with another body is a client bug, not a retry.
    const plain = (m: Record<string, unknown>) => ({ ...m, requireApproval: undefined });
    const asked = { description: body.description, priority: body.priority, metadata: plain(metadata), requireApproval: metadata.requireApproval === true };
    const kept = { description: workflow.description, priority: workflow.priority, metadata: plain(workflow.metadata), requireApproval: workflow.metadata.requireApproval === true };
    const differs = (Object.keys(asked) as (keyof typeof asked)[]).filter((field) => !isDeepStrictEqual(asked[field], kept[field]));
    if (!created && differs.length > 0) {
      res.status(409).json({ error: 'idempotency_conflict', message: `idempotencyKey ${body.idempotencyKey} was used for workflow ${workflow.id} with another ${differs.join(', ')}`, workflowId: workflow.id });
      return;
    }
    if (created) logger.info('workflow changed', { workflowId, subtaskId: null, agentId: null, attempt: null, status: workflow.status, previousStatus: null, quality: null, error: null, consumer: 'api', eventId: submitted.id });
    relay.kick();
    res.status(created ? 202 : 200).json({ workflowId: workflow.id, status: workflow.status, created, links: { self: `/v1/workflows/${workflow.id}` } });
  });

  app.get('/v1/workflows', async (req, res) => {
    const query = listWorkflowsQuerySchema.parse(req.query);
    const read = await reads.read(`workflows?${query.status ?? ''}&${query.limit}&${query.offset}`, async () => ({
      workflows: (await store.listWorkflows(query)).map((w) => ({ workflowId: w.id, description: w.description, status: w.status, complexity: w.complexity, priority: w.priority, createdAt: w.createdAt, completedAt: w.completedAt })),
      total: await store.countWorkflows({ status: query.status }),
      limit: query.limit,
      offset: query.offset,
    }));
    answer(res, read);
  });

  app.get('/v1/workflows/:id', async (req, res) => {
    const { id } = workflowIdParamSchema.parse(req.params);
    const read = await reads.read(`workflow:${id}`, async () => {
      const workflow = await store.getWorkflow(id);
      if (!workflow) throw new NotFoundError(`workflow ${id}`);
      return workflowView(workflow, await store.getSubtasks(id));
    });
    answer(res, read);
  });

  // approve / reject decide a workflow awaiting approval (submitted with requireApproval).
  for (const command of ['cancel', 'pause', 'resume', 'approve', 'reject'] as const satisfies readonly ControlCommand[]) {
    app.post(`/v1/workflows/:id/${command}`, async (req, res) => {
      const { id } = workflowIdParamSchema.parse(req.params);
      const given = command === 'cancel' || command === 'reject' ? cancelRequestSchema.parse(req.body ?? {}).reason : undefined;
      const reason = command === 'reject' ? (given ?? 'rejected by reviewer') : given;
      // The key is the client's, so it is scoped to this command on this workflow.
      const key = req.get('Idempotency-Key');
      const commandId = key === undefined ? `${command}:${ids.newId(command)}` : `${command}:${id}:${key}`;
      // A repeated Idempotency-Key answers like the first call instead of re-judging the command.
      if (!(await store.hasProcessed('api', commandId))) {
        // A concurrent handler may move the workflow between read and commit: re-read and retry.
        await retry({ retries: 5, initialDelayMs: 10, maxDelayMs: 200 }, async () => {
          const reading = rememberingReads(ports);
          const outcome = await control(command, id, commandId, reading.ports, reason);
          if (outcome.skipped === 'unknown workflow') throw new NotFoundError(`workflow ${id}`);
          const change = { consumer: 'api', eventId: commandId, ...outcome.change, outbox: toOutbox(outcome.emit) };
          if ((await store.commit(change)) === 'duplicate') return;
          logStateChange(logger, change, reading.before, id);
          countFinished(runtime.metrics, outcome.emit);
        });
      }
      relay.kick();
      const workflow = await store.getWorkflow(id);
      if (!workflow) throw new NotFoundError(`workflow ${id}`);
      res.json(workflowView(workflow, await store.getSubtasks(id)));
    });
  }

  app.get('/v1/agents', async (_req, res) => {
    answer(res, await reads.read('agents', async () => ({ agents: await directory.list() })));
  });
  app.get('/v1/hierarchy', async (_req, res) => {
    answer(res, await reads.read('hierarchy', () => directory.hierarchyStatus(clock.now(), config.ORCHESTRATION_HEARTBEAT_INTERVAL * 3000)));
  });

  if (runtime.messages && runtime.messageKeys) app.use(createMessagesRouter(runtime.messages, { keys: runtime.messageKeys, clock }));
  if (runtime.changes) app.use(createStreamRoutes(runtime, runtime.changes, options.stream));
  app.use(createDeadLetterRoutes(runtime));
  app.use(createOpsRoutes(runtime));
  app.use(createConsoleRoutes());

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use(errorHandler(logger));
  return app;
}

/** A W3C trace context for a new workflow, sampled at ORCHESTRATION_TRACE_SAMPLE_RATE; every event it causes carries it on. */
function traceContext(config: Runtime['ports']['config']): { cause?: { id: string; traceparent: string } } {
  if (!config.ORCHESTRATION_ENABLE_TRACING) return {};
  const sampled = Math.random() < config.ORCHESTRATION_TRACE_SAMPLE_RATE ? '01' : '00';
  return { cause: { id: randomUUID(), traceparent: `00-${randomBytes(16).toString('hex')}-${randomBytes(8).toString('hex')}-${sampled}` } };
}
