import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import type { AgentStatus, Layer, Specialty } from '../../domain/vocabulary.js';
import type { AgentRecord, AgentRegistration, WorkOutcome, WorkRecord } from '../../ports/agent-directory.port.js';
import { agentTable } from './agent-table.dynamodb.js';

export type Item = Record<string, AttributeValue>;
export const S = (value: string): AttributeValue => ({ S: value });
export const N = (value: number): AttributeValue => ({ N: String(value) });
const num = (value: AttributeValue | undefined): number => Number(value?.N ?? 0);

export const agentKey = (agentId: string): Item => ({ pk: S(agentTable.agentsPartition), sk: S(agentId) });
export const slotKey = (agentId: string, workKey: string): Item => ({ pk: S(agentTable.slotPartition(agentId)), sk: S(workKey) });
export const outcomeKey = (agentId: string, workKey: string): Item => ({ pk: S(agentTable.outcomePartition(agentId)), sk: S(workKey) });
export const workKeyOf = (agentId: string, subtaskId: string): Item => ({ pk: S(agentTable.workPartition(agentId)), sk: S(subtaskId) });

/** Statuses someone set on purpose (attribute `explicit`); the others follow the load. */
export const explicitStatuses: readonly AgentStatus[] = ['FAILED', 'OFFLINE', 'MAINTENANCE'];

/** `#name` for every attribute an expression uses: several (load, role, capacity, ttl) are reserved words. */
export const names = (...attributes: string[]): Record<string, string> => Object.fromEntries(attributes.map((a) => [`#${a}`, a]));

/**
 * The registration's fields set, the track record and reservations kept (an agent restarting),
 * absent optional fields removed: the registration decides them, as the graph's SET does.
 */
export function registerUpdate(agent: AgentRegistration, now: number) {
  const kept = ['registeredAt', 'load', 'completed', 'failed', 'consecutiveFailures', 'qualitySum', 'durationSum'] as const;
  const optional = { role: agent.role, supervisorId: agent.supervisorId, tenant: agent.tenant };
  const set = ['#id = :id', '#layer = :layer', '#specialties = :specialties', '#capacity = :capacity', '#demo = :demo', '#lastHeartbeat = :now'];
  set.push(...kept.map((a) => `#${a} = if_not_exists(#${a}, ${a === 'registeredAt' ? ':now' : ':zero'})`));
  const values: Item = {
    ':id': S(agent.id),
    ':layer': S(agent.layer),
    ':specialties': { L: agent.specialties.map(S) },
    ':capacity': N(agent.capacity),
    ':demo': { BOOL: agent.demo },
    ':now': N(now),
    ':zero': N(0),
  };
  const remove: string[] = [];
  for (const [attribute, value] of Object.entries(optional)) {
    if (value === undefined) remove.push(`#${attribute}`);
    else {
      set.push(`#${attribute} = :${attribute}`);
      values[`:${attribute}`] = S(value);
    }
  }
  return {
    UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
    ExpressionAttributeNames: names('id', 'layer', 'specialties', 'capacity', 'demo', 'lastHeartbeat', ...kept, ...Object.keys(optional)),
    ExpressionAttributeValues: values,
  };
}

/** The counters of one outcome: added to the sums, so averages need no read-modify-write. */
export function outcomeUpdate(outcome: WorkOutcome) {
  const values: Item = { ':one': N(1), ':q': N(outcome.quality), ':d': N(outcome.durationMs) };
  const sums = '#qualitySum :q, #durationSum :d';
  if (outcome.success) {
    values[':zero'] = N(0);
    return {
      UpdateExpression: `SET #consecutiveFailures = :zero ADD #completed :one, ${sums}`,
      ExpressionAttributeNames: names('completed', 'consecutiveFailures', 'qualitySum', 'durationSum'),
      ExpressionAttributeValues: values,
    };
  }
  return {
    UpdateExpression: `ADD #failed :one, #consecutiveFailures :one, ${sums}`,
    ExpressionAttributeNames: names('failed', 'consecutiveFailures', 'qualitySum', 'durationSum'),
    ExpressionAttributeValues: values,
  };
}

/** The record of an agent item; status from `explicit`, else from the load against the capped capacity. */
export function toAgentRecord(item: Item, cap: number): AgentRecord {
  const capacity = num(item.capacity);
  const load = num(item.load);
  const completed = num(item.completed);
  const failed = num(item.failed);
  const n = completed + failed;
  const explicit = item.explicit?.S as AgentStatus | undefined;
  const status: AgentStatus = explicit ?? (load >= Math.min(capacity, cap) ? 'OVERLOADED' : load >= 1 ? 'BUSY' : 'AVAILABLE');
  const record: AgentRecord = {
    id: item.id!.S!,
    layer: item.layer!.S as Layer,
    specialties: (item.specialties?.L ?? []).map((v) => v.S as Specialty),
    capacity,
    demo: item.demo?.BOOL ?? false,
    status,
    load,
    completed,
    failed,
    consecutiveFailures: num(item.consecutiveFailures),
    averageQuality: n ? num(item.qualitySum) / n : 0,
    averageDurationMs: n ? num(item.durationSum) / n : 0,
    lastHeartbeat: num(item.lastHeartbeat),
    registeredAt: num(item.registeredAt),
  };
  if (item.role?.S !== undefined) record.role = item.role.S;
  if (item.supervisorId?.S !== undefined) record.supervisorId = item.supervisorId.S;
  if (item.tenant?.S !== undefined) record.tenant = item.tenant.S;
  return record;
}

export function toWorkRecord(item: Item): WorkRecord {
  return {
    subtaskId: item.sk!.S!,
    workflowId: item.workflowId!.S!,
    success: item.success?.BOOL ?? false,
    quality: num(item.quality),
    durationMs: num(item.durationMs),
    at: num(item.at),
  };
}
