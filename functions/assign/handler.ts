import { subtaskAssigned, type EventOf } from '../../shared/events/index.js';
import { nothing, type Outcome } from '../../shared/ports/handler.port.js';
import type { AgentRecord } from '../../shared/ports/index.js';
import type { Subtask } from '../../shared/domain/workflow.js';
import { CarriedStateNotEnoughError, NotFoundError } from '../../shared/errors.js';
import { groupOf, type Specialty } from '../../shared/domain/vocabulary.js';
import { workKeyOf, type AssignDeps } from '../common/deps.js';
import { Emitter } from '../common/emit.js';
import { preferTeam } from '../common/hierarchy.js';
import { freeSlots, rankedAhead } from './queue.js';
import { healthRules, probationCandidates, rankCandidates } from './score.js';

/** subtask.ready → the best healthy agent of the specialty (or a newly spawned one) takes a slot. */
export async function assign(event: EventOf<'subtask.ready'>, deps: AssignDeps): Promise<Outcome> {
  const { workflowId, subtaskId, attempt, excludeAgents } = event.data;
  const state = await readyState(event, deps);
  if ('waitReason' in state) return nothing(state.waitReason);
  const { subtask, tenant, carried } = state;
  // Only the workflow's tenant's own agents and shared ones: never another tenant's.
  const [candidates, lead] = await Promise.all([
    deps.directory.candidates(subtask.specialty, tenant),
    deps.directory.leadFor?.(groupOf(subtask.specialty)) ?? null,
  ]);
  // The tenant's own free agents are no use to other tenants' waiting work: take one without queueing behind it.
  const own = candidates.filter((agent) => agent.tenant !== undefined);
  const ownFree = freeSlots(own, deps) > 0;
  // A spawn would open a slot too: it goes to the work that ranks first as well.
  const free = freeSlots(candidates, deps) || ((await spawnAllowed(subtask.specialty, deps)) ? 1 : 0);
  const ahead = ownFree ? null : await rankedAhead(subtask, free, deps);
  if (ahead) {
    const out = new Emitter(deps, event);
    out.ready(ahead);
    return { change: {}, emit: out.events, skipped: `${ahead.id} ranks first for a ${subtask.specialty} slot: woken, this subtask waits` };
  }

  const workKey = workKeyOf(subtaskId, attempt);
  const picked = await reserveBest(ownFree ? own : candidates, lead?.id ?? null, excludeAgents, workKey, deps);
  // Spawning an agent or parking the work are decisions a redelivered event must not make: read first.
  if (!picked.agent && carried) {
    throw new CarriedStateNotEnoughError(`no free ${subtask.specialty} slot: read before spawning or parking subtask ${subtaskId}`);
  }
  const agent =
    picked.agent ?? (await spawnAndReserve(subtask.specialty, workKey, event.id, deps)) ?? (await reserveOnProbation(subtask.specialty, tenant, workKey, deps));
  if (!agent) return nothing(`no ${subtask.specialty} capacity; the subtask waits for a free slot`);

  const out = new Emitter(deps, event);
  const leadId = picked.leadId ? { leadId: picked.leadId } : {};
  out.emit(subtaskAssigned, { workflowId, subtaskId, specialty: subtask.specialty, attempt, agentId: agent.id, ...leadId });
  return {
    change: {
      subtaskUpdates: [{ id: subtaskId, expectedVersion: subtask.version, patch: { assignedAgent: agent.id } }],
      // Decided without reading the workflow: the commit checks it still runs.
      ...(carried ? { requireWorkflowStatus: { id: workflowId, status: 'running' as const } } : {}),
    },
    emit: out.events,
  };
}

type ReadyState =
  | {
      subtask: Pick<Subtask, 'id' | 'specialty' | 'version'>;
      tenant: string;
      /** Decided on the event's carried state: no read told whether the event was processed already. */
      carried: boolean;
    }
  | { waitReason: string };

/**
 * What assign decides on. Carried by the event (its producer's commit wrote the subtask ready for
 * this attempt at that version): taken as is, and the commit checks the version and (see assign)
 * that the workflow still runs. Else read, and checked here.
 */
async function readyState(event: EventOf<'subtask.ready'>, deps: AssignDeps): Promise<ReadyState> {
  const { workflowId, subtaskId, specialty, attempt, carried } = event.data;
  if (carried) {
    return {
      subtask: { id: subtaskId, specialty, version: carried.subtaskVersion },
      tenant: carried.tenant,
      carried: true,
    };
  }
  const [workflow, subtask] = await Promise.all([deps.store.getWorkflow(workflowId), deps.store.getSubtask(subtaskId)]);
  if (!workflow || !subtask) throw new NotFoundError(`subtask ${subtaskId} of workflow ${workflowId}`);
  if (subtask.status !== 'ready' || subtask.assignedAgent !== null || attempt !== subtask.attempts + 1) {
    return { waitReason: `subtask is ${subtask.status} (attempt ${subtask.attempts}), event is for attempt ${attempt}` };
  }
  // A paused workflow keeps its ready work queued; resume emits subtask.ready again.
  if (workflow.status !== 'running') return { waitReason: `workflow is ${workflow.status}` };
  return { subtask, tenant: workflow.tenant, carried: false };
}

export type PickDeps = Pick<AssignDeps, 'directory' | 'clock'> & {
  config: Pick<AssignDeps['config'], 'ORCHESTRATION_HEARTBEAT_INTERVAL' | 'ORCHESTRATION_AGENT_FAILURE_THRESHOLD'>;
};

/**
 * The specialty group's management lead is consulted: healthy agents of the lead's team (REPORTS_TO
 * the lead) are tried first, best score first, then the rest of the pool. Without a lead the pool
 * is ranked by score alone. Returns the agent whose slot was reserved (or null) and the lead asked.
 */
export async function pickAgent(
  specialty: Specialty,
  avoid: readonly string[],
  workKey: string,
  deps: PickDeps,
  tenant?: string,
): Promise<{ agent: AgentRecord | null; leadId: string | null }> {
  const [lead, candidates] = await Promise.all([deps.directory.leadFor?.(groupOf(specialty)) ?? null, deps.directory.candidates(specialty, tenant)]);
  return reserveBest(candidates, lead?.id ?? null, avoid, workKey, deps);
}

/** pickAgent over candidates and a lead already read. */
async function reserveBest(
  candidates: AgentRecord[],
  leadId: string | null,
  avoid: readonly string[],
  workKey: string,
  deps: PickDeps,
): Promise<{ agent: AgentRecord | null; leadId: string | null }> {
  for (const agent of preferTeam(rankCandidates(candidates, healthRules(deps.clock.now(), deps.config), avoid), leadId, avoid)) {
    if (await deps.directory.reserve(agent.id, workKey)) return { agent, leadId };
  }
  return { agent: null, leadId };
}

async function reserveOnProbation(specialty: Specialty, tenant: string, workKey: string, deps: AssignDeps): Promise<AgentRecord | null> {
  for (const agent of probationCandidates(await deps.directory.candidates(specialty, tenant), healthRules(deps.clock.now(), deps.config))) {
    if (await deps.directory.reserve(agent.id, workKey)) return agent;
  }
  return null;
}

/** Whether the specialty's pool may grow now: within its size, the total agent budget and the spawn rate. */
async function spawnAllowed(specialty: Specialty, deps: AssignDeps): Promise<boolean> {
  if (!deps.spawner) return false;
  const agents = await deps.directory.list();
  // A pool is the agents of one specialty (ORCHESTRATION_MAX_AGENTS_PER_POOL); spawn rate is counted per group.
  const poolSize = agents.filter((a) => a.specialties.includes(specialty)).length;
  if (poolSize >= deps.config.ORCHESTRATION_MAX_AGENTS_PER_POOL) return false;
  if (agents.length >= deps.config.ORCHESTRATION_MAX_TOTAL_AGENTS) return false;
  // Rates below one per second widen the window so that even one spawn respects the rate.
  const rate = deps.config.ORCHESTRATION_MAX_AGENT_SPAWN_RATE;
  const windowMs = Math.max(1000, 1000 / rate);
  const allowedPerWindow = Math.max(1, Math.floor((rate * windowMs) / 1000));
  return (await deps.directory.spawnedSince(groupOf(specialty), deps.clock.now() - windowMs)) < allowedPerWindow;
}

/** Grows the specialty's pool by one agent, if allowed, and reserves it. */
async function spawnAndReserve(specialty: Specialty, workKey: string, causeId: string, deps: AssignDeps): Promise<AgentRecord | null> {
  if (!deps.spawner || !(await spawnAllowed(specialty, deps))) return null;
  const now = deps.clock.now();
  const agentId = `${specialty}-${deps.ids.derivedId(causeId, 1000).slice(0, 8)}`;
  const registration = await deps.spawner.spawn(specialty, agentId);
  if (!registration) return null;
  const agent = await deps.directory.register(registration, now);
  return (await deps.directory.reserve(agent.id, workKey)) ? agent : null;
}
