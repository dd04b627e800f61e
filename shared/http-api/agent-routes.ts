import { Router, type Response } from 'express';
import { z } from 'zod';
import { agentHeartbeatRequestSchema, agentResultRequestSchema, agentWorkQuerySchema, registerAgentRequestSchema, type AgentWorkItem } from '../api/agents.js';
import type { Subtask } from '../domain/workflow.js';
import { agentHeartbeat, agentRegistered, makeEvent, subtaskCompleted, subtaskFailed, topics, type EventContext } from '../events/index.js';
import { leaseKeyOf, leaseRenewalMs, leaseTtlMs } from '../domain/protocol.js';
import type { Runtime } from '../runtime/runtime.js';
import { principalOf } from './auth/middleware.js';
import { allTenants, type Principal } from './auth/principal.js';
import { stampTrace } from '../observability/tracing/index.js';

const agentIdParamSchema = z.object({ id: z.string().min(1).max(200) });

/** How often a long poll re-reads the store when no change wakes it (the change hub usually does first). */
const pollIntervalMs = 500;

/**
 * The agent a credential speaks for: an agent key's bound id, or an OIDC agent's `sub`. `none`
 * (loopback only) is the one local user, who may act as any agent.
 */
export function agentIdOf(principal: Principal): string | 'any' | null {
  if (principal.via === 'none') return 'any';
  if (principal.agentId) return principal.agentId;
  return principal.via === 'oidc' && principal.roles.includes('agent') ? principal.subject : null;
}

/** 403 unless the caller's credential names this agent: an agent acts only as itself. */
function refuseImpostor(res: Response, agentId: string): boolean {
  const own = agentIdOf(principalOf(res));
  if (own === 'any' || own === agentId) return false;
  const message =
    own === null ? 'this credential names no agent (amas keys create --role agent --agent-id <id>)' : `this credential speaks for agent ${own}, not ${agentId}`;
  res.status(403).json({ error: 'forbidden', message });
  return true;
}

/**
 * Agents as remote HTTP clients: register, heartbeat, long-poll their work and report, with their
 * own credential and no broker, graph or cache credential. Stateless: work is read from the store
 * (in-progress subtasks assigned to the agent), so any API replica answers.
 */
export function createAgentRoutes(runtime: Runtime): Router {
  const { store, directory, leases, clock, ids, config } = runtime.ports;
  const router = Router();
  const contextOf = (agentId: string): EventContext => ({ ids, clock, source: `amas/agent/${agentId}` });

  router.post('/v1/agents/register', async (req, res) => {
    const body = registerAgentRequestSchema.parse(req.body ?? {});
    if (refuseImpostor(res, body.agentId)) return;
    const { agentId, ...rest } = body;
    // A tenant's credential registers an agent of that tenant's pool; an every-tenant one a shared agent.
    const { tenant } = principalOf(res);
    const registration = {
      ...rest,
      id: agentId,
      capacity: body.capacity ?? config.ORCHESTRATION_MAX_TASKS_PER_AGENT,
      demo: false,
      ...(tenant === allTenants ? {} : { tenant }),
    };
    const record = await directory.register(registration, clock.now());
    const { id: _id, ...announced } = registration;
    await runtime.bus.publish(topics.agents, [{ key: agentId, event: makeEvent(agentRegistered, { agentId, ...announced }, contextOf(agentId)) }]);
    runtime.logger.info('agent registered over http', { agentId, specialties: body.specialties, by: principalOf(res).subject });
    res.status(201).json({
      agent: record,
      heartbeatIntervalSeconds: config.ORCHESTRATION_HEARTBEAT_INTERVAL,
      leaseTtlSeconds: config.ORCHESTRATION_LEASE_TTL_SECONDS,
      leaseRenewalSeconds: leaseRenewalMs(config) / 1000,
    });
  });

  /** Renews this agent's current leases of the listed work (never a predecessor's or another agent's). */
  async function renew(
    id: string,
    working: readonly { subtaskId: string; leaseToken: number }[],
  ): Promise<{ agentId: string; renewed: string[]; lost: string[] }> {
    const ttl = leaseTtlMs(config);
    const renewed: string[] = [];
    const lost: string[] = [];
    for (const { subtaskId, leaseToken } of working) {
      const lease = await leases.get(leaseKeyOf(subtaskId));
      const ok =
        lease === null
          ? await reclaimForgotten(id, subtaskId, leaseToken, ttl)
          : lease.holder === id && lease.token === leaseToken && (await leases.renew(lease.key, leaseToken, ttl));
      (ok ? renewed : lost).push(subtaskId);
    }
    return { agentId: id, renewed, lost };
  }

  /**
   * No lease at all: the lease store lost its memory (a Redis restart). The workflow store, not the
   * caller's word, says whether this agent still does the work under this token; then it takes the
   * lease back (LeaseStore.reclaim), so its work is not re-run.
   */
  async function reclaimForgotten(id: string, subtaskId: string, leaseToken: number, ttl: number): Promise<boolean> {
    const subtask = await store.getSubtask(subtaskId);
    if (subtask?.status !== 'in_progress' || subtask.assignedAgent !== id || subtask.leaseToken !== leaseToken) return false;
    return leases.reclaim(leaseKeyOf(subtaskId), id, leaseToken, ttl);
  }

  // Lease renewal alone, every third of the lease TTL: no directory write, no event, so it stays cheap.
  router.post('/v1/agents/:id/leases', async (req, res) => {
    const { id } = agentIdParamSchema.parse(req.params);
    if (refuseImpostor(res, id)) return;
    const { working } = agentHeartbeatRequestSchema.parse(req.body ?? {});
    const answer = await renew(id, working);
    // A lapsed lease may have got the agent marked OFFLINE by the recovery loop: this call proves it alive.
    if (answer.lost.length > 0) await directory.heartbeat(id, clock.now()).catch(() => undefined);
    res.json(answer);
  });

  router.post('/v1/agents/:id/heartbeat', async (req, res) => {
    const { id } = agentIdParamSchema.parse(req.params);
    if (refuseImpostor(res, id)) return;
    const { working } = agentHeartbeatRequestSchema.parse(req.body ?? {});
    if (!(await directory.get(id))) {
      res.status(404).json({ error: 'not_found', message: `agent ${id} is not registered: POST /v1/agents/register` });
      return;
    }
    await directory.heartbeat(id, clock.now());
    const answer = await renew(id, working);
    const record = await directory.get(id);
    await runtime.bus.publish(topics.agents, [
      { key: id, event: makeEvent(agentHeartbeat, { agentId: id, status: record?.status ?? 'AVAILABLE', load: record?.load ?? 0 }, contextOf(id)) },
    ]);
    res.json(answer);
  });

  router.get('/v1/agents/:id/work', async (req, res) => {
    const { id } = agentIdParamSchema.parse(req.params);
    if (refuseImpostor(res, id)) return;
    const { waitMs } = agentWorkQuerySchema.parse(req.query);
    res.json({ work: await waitForWork(runtime, id, waitMs, res) });
  });

  router.post('/v1/agents/:id/results', async (req, res) => {
    const { id } = agentIdParamSchema.parse(req.params);
    if (refuseImpostor(res, id)) return;
    const body = agentResultRequestSchema.parse(req.body ?? {});
    const subtask = await store.getSubtask(body.subtaskId);
    if (!subtask || subtask.assignedAgent !== id) {
      res.status(404).json({ error: 'not_found', message: `subtask ${body.subtaskId} is not assigned to agent ${id}` });
      return;
    }
    // The fencing token decides: a superseded attempt is refused here, and complete ignores it anyway.
    if (subtask.status !== 'in_progress' || subtask.leaseToken !== body.leaseToken || subtask.attempts !== body.attempt) {
      res.status(409).json({
        error: 'stale_lease',
        message: `subtask ${subtask.id} is ${subtask.status} (attempt ${subtask.attempts}, lease ${subtask.leaseToken ?? 'none'}): this report is superseded`,
      });
      return;
    }
    const fenced = { workflowId: subtask.workflowId, subtaskId: subtask.id, attempt: body.attempt, agentId: id, leaseToken: body.leaseToken };
    const event =
      body.status === 'completed'
        ? makeEvent(
            subtaskCompleted,
            { ...fenced, quality: body.quality, output: body.output, durationMs: body.durationMs, ...(body.usage ? { usage: body.usage } : {}) },
            contextOf(id),
          )
        : makeEvent(subtaskFailed, { ...fenced, reason: body.reason, cause: 'agent_error', ...(body.usage ? { usage: body.usage } : {}) }, contextOf(id));
    await runtime.bus.publish(topics.subtaskResults, [{ key: subtask.workflowId, event: stampTrace(event) }]);
    res.status(202).json({ accepted: true, eventId: event.id, type: event.type });
  });

  return router;
}

/** The agent's dispatched work; with waitMs, waits until there is some (woken by the change hub, else polling). */
async function waitForWork(runtime: Runtime, agentId: string, waitMs: number, res: Response): Promise<AgentWorkItem[]> {
  const until = Date.now() + waitMs;
  let wake: (() => void) | undefined;
  const unsubscribe =
    waitMs > 0 && runtime.changes
      ? await runtime.changes.subscribe({
          onChange: (change) => {
            if (change.kind === 'subtask' && change.agentId === agentId && change.status === 'in_progress') wake?.();
          },
        })
      : undefined;
  // The client hung up: stop reading the store for it.
  let hungUp = false;
  const gone = new Promise<void>((resolve) =>
    res.once('close', () => {
      hungUp = true;
      resolve();
    }),
  );
  try {
    for (;;) {
      const work = await workOf(runtime, agentId);
      const left = until - Date.now();
      if (work.length > 0 || left <= 0 || hungUp) return work;
      await Promise.race([
        new Promise<void>((resolve) => {
          wake = resolve;
          setTimeout(resolve, Math.min(left, pollIntervalMs)).unref();
        }),
        gone,
      ]);
    }
  } finally {
    unsubscribe?.();
  }
}

async function workOf(runtime: Runtime, agentId: string): Promise<AgentWorkItem[]> {
  const { store, leases } = runtime.ports;
  const items: AgentWorkItem[] = [];
  for (const subtask of await store.findSubtasksByAgent(agentId)) {
    if (subtask.leaseToken === null || subtask.deadline === null) continue;
    // A lease taken back (expired, recovered) is no longer this agent's work.
    const lease = await leases.get(leaseKeyOf(subtask.id));
    if (!lease || lease.holder !== agentId || lease.token !== subtask.leaseToken) continue;
    items.push(await itemOf(runtime, subtask, subtask.leaseToken, subtask.deadline));
  }
  return items;
}

async function itemOf(runtime: Runtime, subtask: Subtask, leaseToken: number, deadline: string): Promise<AgentWorkItem> {
  const siblings = subtask.dependsOn.length > 0 ? await runtime.ports.store.getSubtasks(subtask.workflowId) : [];
  const inputs = siblings.filter((s) => subtask.dependsOn.includes(s.id)).map((s) => ({ subtaskId: s.id, output: s.output }));
  return {
    workflowId: subtask.workflowId,
    subtaskId: subtask.id,
    attempt: subtask.attempts,
    leaseToken,
    deadline,
    task: { title: subtask.title, description: subtask.description, specialty: subtask.specialty, inputs, successCriteria: subtask.successCriteria },
  };
}
