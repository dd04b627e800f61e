import { recordOf, statusOf } from './cypher.js';

/**
 * The agent graph's Cypher, one statement per operation (one round trip each). Every statement
 * takes `$ns`; statements that derive a status take `$cap` (the per-agent task cap).
 *
 *   (:Agent)-[:REPORTS_TO]->(:Agent)          from `supervisorId`, whichever registers first
 *   (:Agent)-[:HAS_SPECIALTY]->(:Specialty {name, group})
 *   (:Agent)-[:WORKED_ON {success, quality, durationMs, at}]->(:Subtask)-[:PART_OF]->(:Workflow)
 *   (:Subtask)-[:DEPENDS_ON]->(:Subtask)       the lineage: what a subtask was given,
 *   (:Subtask)-[:PRODUCED]->(:Output {id: '<subtask>#<attempt>', attempt, agentId, success, quality, durationMs, at})
 *   (:Output)-[:PRODUCED_BY]->(:Agent)          and which attempt, by which agent, produced what
 *
 * Reservations are the list property `held` (bounded by capacity) and outcomes already counted
 * the list `recorded`. Writes that read them first write the agent node: that takes its
 * exclusive lock before the read, so concurrent reserves for the last slot serialise.
 */

const lockAgent = 'MATCH (a:Agent {ns: $ns, id: $id}) SET a._lock = true REMOVE a._lock';

/** Every write to an agent node bumps `rev`, so a cache can tell a newer answer from an older one. */
const bump = (a: string): string => `${a}.rev = coalesce(${a}.rev, 0) + 1`;

/** What a cached read or a write returns: the record and its revision. */
const versioned = (a: string): string => `${recordOf(a)} AS agent, ${a}.rev AS rev`;

export const registerAgent = `
MERGE (a:Agent {ns: $ns, id: $id})
ON CREATE SET a.registeredAt = $now, a.completed = 0, a.failed = 0, a.consecutiveFailures = 0,
  a.averageQuality = 0.0, a.averageDurationMs = 0.0, a.held = [], a.recorded = [], a.load = 0
SET a.layer = $layer, a.role = $role, a.specialties = $specialties, a.supervisorId = $supervisorId,
  a.capacity = $capacity, a.demo = $demo, a.tenant = $tenant, a.lastHeartbeat = $now,
  a.explicitStatus = CASE WHEN a.explicitStatus = 'OFFLINE' THEN null ELSE a.explicitStatus END, ${bump('a')}
SET a.status = ${statusOf('a')}
WITH a
CALL (a) { MATCH (a)-[old:HAS_SPECIALTY|REPORTS_TO]->() DELETE old }
CALL (a) {
  UNWIND $specialtyNodes AS s
  MERGE (sp:Specialty {name: s.name}) ON CREATE SET sp.group = s.group
  MERGE (a)-[:HAS_SPECIALTY]->(sp)
}
CALL (a) { MATCH (boss:Agent {ns: $ns, id: $supervisorId}) MERGE (a)-[:REPORTS_TO]->(boss) }
CALL (a) { MATCH (sub:Agent {ns: $ns, supervisorId: $id}) MERGE (sub)-[:REPORTS_TO]->(a) }
RETURN ${versioned('a')}`;

export const getAgent = `MATCH (a:Agent {ns: $ns, id: $id}) RETURN ${recordOf('a')} AS agent`;

export const listAgents = `MATCH (a:Agent {ns: $ns}) RETURN ${recordOf('a')} AS agent`;

export const candidatesFor = `
MATCH (:Specialty {name: $specialty})<-[:HAS_SPECIALTY]-(a:Agent {ns: $ns})
RETURN ${versioned('a')}`;

export const reserveSlot = `
${lockAgent}
WITH a, coalesce(a.held, []) AS held
WITH a, held, $key IN held AS already
WITH a, held, already,
  already OR (a.explicitStatus IS NULL AND size(held) < CASE WHEN a.capacity < $cap THEN a.capacity ELSE $cap END) AS granted
FOREACH (_ IN CASE WHEN granted AND NOT already THEN [1] ELSE [] END |
  SET a.held = held + $key, a.load = size(held) + 1)
SET a.status = ${statusOf('a')}, ${bump('a')}
RETURN granted, ${versioned('a')}`;

/** Every slot held in the namespace: one row per (agent, work key). */
export const heldWork = `
MATCH (a:Agent {ns: $ns}) WHERE size(coalesce(a.held, [])) > 0
UNWIND a.held AS workKey
RETURN a.id AS agentId, workKey`;

export const releaseSlot = `
${lockAgent}
WITH a, [k IN coalesce(a.held, []) WHERE k <> $key] AS held,
  $outcome IS NOT NULL AND NOT $key IN coalesce(a.recorded, []) AS counted
WITH a, held, counted, a.completed + a.failed + 1 AS n
SET a += CASE WHEN counted THEN {
  recorded: coalesce(a.recorded, []) + $key,
  completed: a.completed + CASE WHEN $outcome.success THEN 1 ELSE 0 END,
  failed: a.failed + CASE WHEN $outcome.success THEN 0 ELSE 1 END,
  consecutiveFailures: CASE WHEN $outcome.success THEN 0 ELSE a.consecutiveFailures + 1 END,
  averageQuality: a.averageQuality + ($outcome.quality - a.averageQuality) / n,
  averageDurationMs: a.averageDurationMs + ($outcome.durationMs - a.averageDurationMs) / n
} ELSE {} END
SET a.held = held, a.load = size(held)
SET a.status = ${statusOf('a')}, ${bump('a')}
RETURN ${versioned('a')}`;

// A heartbeat proves the agent alive again: an OFFLINE verdict lifts; FAILED and MAINTENANCE stay.
export const heartbeat = `
MATCH (a:Agent {ns: $ns, id: $id})
SET a.lastHeartbeat = $now, a.explicitStatus = CASE WHEN a.explicitStatus = 'OFFLINE' THEN null ELSE a.explicitStatus END
SET a.status = ${statusOf('a')}, ${bump('a')}
RETURN ${versioned('a')}`;

export const setStatus = `
MATCH (a:Agent {ns: $ns, id: $id})
SET a.explicitStatus = $explicit
SET a.status = ${statusOf('a')}, ${bump('a')}
RETURN ${versioned('a')}`;

export const spawnedSince = `
MATCH (a:Agent {ns: $ns})-[:HAS_SPECIALTY]->(:Specialty {group: $group})
WHERE a.registeredAt >= $since
RETURN count(DISTINCT a) AS n`;

export const supervisorOf = `
MATCH (:Agent {ns: $ns, id: $id})-[:REPORTS_TO]->(boss:Agent)
RETURN ${recordOf('boss')} AS agent LIMIT 1`;

/** The longest REPORTS_TO path from the agent up (bounded, so a cycle cannot run away). */
export const reportingChain = `
MATCH p = (:Agent {ns: $ns, id: $id})-[:REPORTS_TO*0..16]->(:Agent)
RETURN [n IN nodes(p) | n.id] AS chain ORDER BY length(p) DESC LIMIT 1`;

/** A team lead that can take work first (no explicit status), then the least loaded. */
export const leadFor = `
MATCH (a:Agent {ns: $ns, role: $role}) WHERE a.layer = 'MANAGEMENT'
RETURN ${versioned('a')}
ORDER BY a.explicitStatus IS NULL DESC, a.load ASC, a.id ASC LIMIT 1`;

/** Every lead of a role, for the cache: it orders them as leadFor does, on records its writes keep current. */
export const leadsFor = `
MATCH (a:Agent {ns: $ns, role: $role}) WHERE a.layer = 'MANAGEMENT'
RETURN ${versioned('a')}`;

/** `$dependsOn` is a list (empty without lineage); `$outputId` is null unless the attempt produced an output. */
export const recordWork = `
MATCH (a:Agent {ns: $ns, id: $id})
MERGE (w:Workflow {ns: $ns, id: $workflowId})
MERGE (s:Subtask {ns: $ns, id: $subtaskId})
MERGE (s)-[:PART_OF]->(w)
MERGE (a)-[r:WORKED_ON]->(s)
ON CREATE SET r.success = $outcome.success, r.quality = $outcome.quality,
  r.durationMs = $outcome.durationMs, r.at = $at, r._created = true
WITH a, w, s, r, r._created IS NOT NULL AS worked
REMOVE r._created
WITH a, w, s, worked
CALL (w, s) {
  UNWIND $dependsOn AS dependencyId
  MERGE (d:Subtask {ns: $ns, id: dependencyId})
  MERGE (d)-[:PART_OF]->(w)
  MERGE (s)-[:DEPENDS_ON]->(d)
}
CALL (a, s) {
  UNWIND CASE WHEN $outputId IS NULL THEN [] ELSE [$outputId] END AS outputId
  MERGE (o:Output {ns: $ns, id: outputId})
  ON CREATE SET o.subtaskId = $subtaskId, o.attempt = $attempt, o.agentId = $id, o.success = $outcome.success,
    o.quality = $outcome.quality, o.durationMs = $outcome.durationMs, o.at = $at, o._created = true
  MERGE (s)-[:PRODUCED]->(o)
  MERGE (o)-[:PRODUCED_BY]->(a)
  WITH o, o._created IS NOT NULL AS created
  REMOVE o._created
  RETURN collect(created) AS produced
}
RETURN worked OR true IN produced AS created`;

/** A workflow's subtasks with their dependencies, and every output they produced. */
export const lineageOf = `
MATCH (:Workflow {ns: $ns, id: $workflowId})<-[:PART_OF]-(s:Subtask)
OPTIONAL MATCH (s)-[:DEPENDS_ON]->(d:Subtask)
WITH s, collect(d.id) AS dependsOn
OPTIONAL MATCH (s)-[:PRODUCED]->(o:Output)
WITH s, dependsOn, o ORDER BY o.attempt
RETURN s.id AS id, dependsOn, [x IN collect(o) | x {.id, .subtaskId, .attempt, .agentId, .success, .quality, .durationMs, .at}] AS outputs
ORDER BY s.id`;

export const workOf = `
MATCH (:Agent {ns: $ns, id: $id})-[r:WORKED_ON]->(s:Subtask)-[:PART_OF]->(w:Workflow)
RETURN s.id AS subtaskId, w.id AS workflowId, r.success AS success, r.quality AS quality,
  r.durationMs AS durationMs, r.at AS at
ORDER BY r.at, s.id`;

export const clearNamespace = `
MATCH (n) WHERE n.ns = $ns AND (n:Agent OR n:Subtask OR n:Workflow OR n:Output)
DETACH DELETE n`;
