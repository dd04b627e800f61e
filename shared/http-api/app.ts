import { isDeepStrictEqual } from 'node:util';
import express, { type Request, type Response } from 'express';
import { cancelRequestSchema, decisionRequestSchema, listWorkflowsQuerySchema, submitTaskRequestSchema, workflowIdParamSchema } from '../api/requests.js';
import { OrchestrationError, NotFoundError } from '../errors.js';
import { isoTime, makeEvent, taskSubmitted, workflowCommandRequested } from '../events/index.js';
import type { ControlCommand } from '../../functions/index.js';
import type { Runtime } from '../runtime/runtime.js';
import { toOutbox } from '../engine/process-event.js';
import { handleDelivery } from '../engine/delivery.js';
import { errorHandler } from './errors.js';
import { createMessagesRouter } from './messages-routes.js';
import { createLastKnownReads, type Read } from './last-known-reads.js';
import { createOpsRoutes } from './ops-routes.js';
import { createConsoleRoutes } from './console-routes.js';
import { requestLog } from './request-log.js';
import { traceIdOf, traceRequests, traceSubmitted } from '../observability/tracing/index.js';
import { createStreamRoutes, type StreamOptions } from './stream-routes.js';
import { createDeadLetterRoutes } from './dead-letter-routes.js';
import { createHistoryRoutes } from './history-routes.js';
import { createAgentRoutes } from './agent-routes.js';
import { workflowView } from './workflow-view.js';
import { rejectBadPaths, rejectBadText, requireJson } from './input-guards.js';
import { authenticate, noAuth, principalOf, type ApiAuth } from './auth/middleware.js';
import { createKeysRoutes } from './auth/keys-routes.js';
import { submitTenant } from './auth/principal.js';
import { agentScope, canSee, listScope, submittedByKey } from './auth/scope.js';
import { servesTenant } from '../domain/agent-tenancy.js';
import { summariseHierarchy } from '../adapters/hierarchy-summary.js';
import type { AgentRecord } from '../ports/agent-directory.port.js';

/** The HTTP API and trigger service over one runtime's ports. */
export function createApiApp(runtime: Runtime, options: { stream?: StreamOptions; auth?: ApiAuth } = {}) {
  const { ports, relay, logger } = runtime;
  const { store, config, ids, clock, directory } = ports;
  const app = express();
  app.disable('x-powered-by');
  app.use(traceRequests());
  app.use(requestLog(logger));
  app.use(rejectBadPaths);
  app.use(authenticate(options.auth ?? noAuth));
  app.use('/v1', requireJson);
  app.use(express.json({ limit: '1mb' }));
  app.use(rejectBadText);
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
    const principal = principalOf(res);
    const tenant = submitTenant(principal);
    if (config.ORCHESTRATION_ENABLE_BACKPRESSURE) await refuseOverQuota(store, config, tenant, res);
    // Whose it is, for a submitter's reads of its own; the client cannot set it.
    if (principal.via !== 'none') body.metadata = { ...body.metadata, [submittedByKey]: principal.subject };
    // A client's key is its own: another tenant or submitter with the same key makes another workflow.
    if (body.idempotencyKey !== undefined && principal.via !== 'none') body.idempotencyKey = `${tenant}/${principal.subject}/${body.idempotencyKey}`;
    const workflowId = ids.newId('wf');
    const submitted = traceSubmitted(
      makeEvent(
        taskSubmitted,
        { workflowId, description: body.description, priority: body.priority, metadata: body.metadata, requireApproval: body.requireApproval },
        { ids, clock, source: 'amas/api' },
      ),
      config,
    );
    // The workflow row keeps requireApproval in its metadata: complete reads it when the last subtask passes.
    const metadata = body.requireApproval ? { ...body.metadata, requireApproval: true } : body.metadata;
    const { workflow, created } = await store.createWorkflow(
      {
        id: workflowId,
        description: body.description,
        priority: body.priority,
        metadata,
        idempotencyKey: body.idempotencyKey ?? null,
        createdAt: isoTime(clock.now()),
        tenant,
      },
      toOutbox([submitted]),
    );
    // A key names one submission: the same key with another body is a client bug, not a retry.
    const plain = (m: Record<string, unknown>) => ({ ...m, requireApproval: undefined, [submittedByKey]: undefined });
    const asked = { description: body.description, priority: body.priority, metadata: plain(metadata), requireApproval: metadata.requireApproval === true };
    const kept = {
      description: workflow.description,
      priority: workflow.priority,
      metadata: plain(workflow.metadata),
      requireApproval: workflow.metadata.requireApproval === true,
    };
    const differs = (Object.keys(asked) as (keyof typeof asked)[]).filter((field) => !isDeepStrictEqual(asked[field], kept[field]));
    if (!created && differs.length > 0) {
      res.status(409).json({
        error: 'idempotency_conflict',
        message: `idempotencyKey ${body.idempotencyKey} was used for workflow ${workflow.id} with another ${differs.join(', ')}`,
        workflowId: workflow.id,
      });
      return;
    }
    if (created)
      logger.info('workflow changed', {
        workflowId,
        subtaskId: null,
        agentId: null,
        attempt: null,
        status: workflow.status,
        previousStatus: null,
        quality: null,
        error: null,
        consumer: 'api',
        eventId: submitted.id,
      });
    relay.kick();
    // The trace of the workflow this request created (a repeated submit did not start one).
    const traceId = created ? traceIdOf(submitted.traceparent) : undefined;
    res
      .status(created ? 202 : 200)
      .json({ workflowId: workflow.id, status: workflow.status, created, ...(traceId ? { traceId } : {}), links: { self: `/v1/workflows/${workflow.id}` } });
  });

  app.get('/v1/workflows', async (req, res) => {
    const query = listWorkflowsQuerySchema.parse(req.query);
    const scope = listScope(principalOf(res));
    const read = await reads.read(
      `workflows?${query.status ?? ''}&${query.limit}&${query.offset}&${scope.tenant ?? ''}&${scope.submittedBy ?? ''}`,
      async () => ({
        workflows: (await store.listWorkflows({ ...query, ...scope })).map((w) => ({
          workflowId: w.id,
          description: w.description,
          status: w.status,
          complexity: w.complexity,
          priority: w.priority,
          createdAt: w.createdAt,
          completedAt: w.completedAt,
        })),
        total: await store.countWorkflows({ status: query.status, ...scope }),
        limit: query.limit,
        offset: query.offset,
      }),
    );
    answer(res, read);
  });

  app.get('/v1/workflows/:id', async (req, res) => {
    const { id } = workflowIdParamSchema.parse(req.params);
    const read = await reads.read(`workflow:${id}`, async () => {
      const workflow = await store.getWorkflow(id);
      if (!workflow) throw new NotFoundError(`workflow ${id}`);
      return {
        owner: { tenant: workflow.tenant, metadata: workflow.metadata },
        view: workflowView(workflow, await store.getSubtasks(id), config.ORCHESTRATION_WORKFLOW_BUDGET_USD),
      };
    });
    // Another tenant's workflow is answered like a missing one (no existence leak).
    if (!canSee(principalOf(res), read.value.owner)) throw new NotFoundError(`workflow ${id}`);
    answer(res, { ...read, value: read.value.view });
  });

  // approve / reject decide a workflow awaiting approval of its plan or of its delivery.
  for (const command of ['cancel', 'pause', 'resume', 'approve', 'reject'] as const satisfies readonly ControlCommand[]) {
    app.post(`/v1/workflows/:id/${command}`, async (req, res) => {
      const { id } = workflowIdParamSchema.parse(req.params);
      const target = await store.getWorkflow(id);
      if (!target || !canSee(principalOf(res), target)) throw new NotFoundError(`workflow ${id}`);
      const decision = command === 'approve' || command === 'reject' ? decisionRequestSchema.parse(req.body ?? {}) : {};
      const given = command === 'cancel' ? cancelRequestSchema.parse(req.body ?? {}).reason : decision.reason;
      const reason = command === 'reject' ? (given ?? 'rejected by reviewer') : given;
      // The key is the client's, so it is scoped to this command on this workflow.
      const key = req.get('Idempotency-Key');
      const commandId = key === undefined ? `${command}:${ids.newId(command)}` : `${command}:${id}:${key}`;
      const principal = principalOf(res);
      // Its id is the command's: the processed mark and the ids of what it emits derive from it.
      const requested = makeEvent(
        workflowCommandRequested,
        { workflowId: id, command, reason, stage: decision.stage, requestedBy: principal.via === 'none' ? undefined : principal.subject },
        { ids: { newId: () => commandId, derivedId: ids.derivedId.bind(ids) }, clock, source: 'amas/api' },
      );
      // The path of every event (parse, drop a repeated id, handler, one commit, effects): a repeated
      // Idempotency-Key answers like the first call; a conflicting concurrent change is retried.
      const outcome = await handleDelivery('control', () => requested, ports, {
        logger,
        metrics: runtime.metrics,
        redelivery: { kind: 'caller' },
        attributes: { 'amas.command': command, 'amas.workflow_id': id },
      });
      if (outcome.kind === 'retry') {
        res.setHeader('Retry-After', String(Math.max(1, Math.ceil(outcome.afterMs / 1000))));
        res.status(503).json({ error: 'retry_later', code: outcome.reason.code, message: `${command} could not be applied now: ${outcome.reason.message}` });
        return;
      }
      if (outcome.kind === 'refused') throw outcome.error;
      if (outcome.kind === 'deadLetter') throw new OrchestrationError(outcome.reason.code, outcome.reason.message);
      if (outcome.result.status === 'skipped' && outcome.result.outcome.skipped === 'unknown workflow') throw new NotFoundError(`workflow ${id}`);
      relay.kick();
      const workflow = await store.getWorkflow(id);
      if (!workflow) throw new NotFoundError(`workflow ${id}`);
      res.json(workflowView(workflow, await store.getSubtasks(id), config.ORCHESTRATION_WORKFLOW_BUDGET_USD));
    });
  }

  // A tenant's principal sees its own agents and the shared ones; the hierarchy is summarised over those.
  app.get('/v1/agents', async (_req, res) => {
    const tenant = agentScope(principalOf(res));
    if (tenant === undefined) return answer(res, await reads.read('agents', async () => ({ agents: await directory.list() })));
    answer(res, await reads.read(`agents:${tenant}`, async () => ({ agents: (await directory.list()).filter((agent) => servesTenant(agent, tenant)) })));
  });
  app.get('/v1/hierarchy', async (_req, res) => {
    const timeoutMs = config.ORCHESTRATION_HEARTBEAT_INTERVAL * 3000;
    const tenant = agentScope(principalOf(res));
    if (tenant === undefined) return answer(res, await reads.read('hierarchy', () => directory.hierarchyStatus(clock.now(), timeoutMs)));
    const capacityOf = (agent: AgentRecord) => Math.min(agent.capacity, config.ORCHESTRATION_MAX_TASKS_PER_AGENT);
    answer(
      res,
      await reads.read(`hierarchy:${tenant}`, async () =>
        summariseHierarchy(
          (await directory.list()).filter((agent) => servesTenant(agent, tenant)),
          clock.now(),
          timeoutMs,
          capacityOf,
        ),
      ),
    );
  });

  if (runtime.messages && runtime.messageKeys) app.use(createMessagesRouter(runtime.messages, { keys: runtime.messageKeys, clock }));
  if (runtime.changes) app.use(createStreamRoutes(runtime, runtime.changes, options.stream));
  app.use(createHistoryRoutes(runtime));
  app.use(createDeadLetterRoutes(runtime));
  app.use(createAgentRoutes(runtime));
  app.use(createKeysRoutes(options.auth?.keys ?? null, logger));
  app.use(createOpsRoutes(runtime));
  app.use(createConsoleRoutes());

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  app.use(errorHandler(logger));
  return app;
}

/** 429 past the tenant's ORCHESTRATION_MAX_WORKFLOWS or everyone's ORCHESTRATION_MAX_WORKFLOWS_GLOBAL: one tenant's flood leaves the others their share. */
async function refuseOverQuota(store: Runtime['ports']['store'], config: Runtime['ports']['config'], tenant: string, res: Response): Promise<void> {
  const over =
    (await store.countActiveWorkflows(tenant)) >= config.ORCHESTRATION_MAX_WORKFLOWS
      ? `${config.ORCHESTRATION_MAX_WORKFLOWS} workflows of tenant ${tenant} are active (ORCHESTRATION_MAX_WORKFLOWS)`
      : (await store.countActiveWorkflows()) >= config.ORCHESTRATION_MAX_WORKFLOWS_GLOBAL
        ? `${config.ORCHESTRATION_MAX_WORKFLOWS_GLOBAL} workflows are active (ORCHESTRATION_MAX_WORKFLOWS_GLOBAL)`
        : null;
  if (over === null) return;
  res.setHeader('Retry-After', '5');
  throw new OrchestrationError('BACKPRESSURE', `${over}; retry later`);
}
