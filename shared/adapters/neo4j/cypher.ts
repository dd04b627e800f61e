import { isInt } from 'neo4j-driver';
import type { AgentStatus, Layer, Specialty } from '../../domain/vocabulary.js';
import type { AgentRecord } from '../../ports/agent-directory.port.js';

/** Statuses someone set on purpose; the others follow the load (as in the memory adapter). */
export const explicitStatuses: readonly AgentStatus[] = ['FAILED', 'OFFLINE', 'MAINTENANCE'];

/**
 * The status of agent node `a` from its load, its capacity capped by `$cap`, and an explicit
 * status if one was set. Written after every change to the load so queries can filter on it.
 */
export const statusOf = (a: string): string =>
  `CASE WHEN ${a}.explicitStatus IS NOT NULL THEN ${a}.explicitStatus ` +
  `WHEN ${a}.load >= CASE WHEN ${a}.capacity < $cap THEN ${a}.capacity ELSE $cap END THEN 'OVERLOADED' ` +
  `WHEN ${a}.load >= 1 THEN 'BUSY' ELSE 'AVAILABLE' END`;

/** The AgentRecord fields of node `a`, as one map (the internal `held`, `recorded`, `ns` stay out). */
export const recordOf = (a: string): string =>
  `${a} { .id, .layer, .role, .specialties, .supervisorId, .capacity, .demo, .tenant, .status, .load, .completed, ` +
  `.failed, .consecutiveFailures, .averageQuality, .averageDurationMs, .lastHeartbeat, .registeredAt }`;

/** Cypher integers arrive as driver `Integer`s unless the driver was built with disableLosslessIntegers. */
export const toNumber = (value: unknown): number => (isInt(value) ? value.toNumber() : Number(value ?? 0));

export function toAgentRecord(map: Record<string, unknown>): AgentRecord {
  const record: AgentRecord = {
    id: String(map.id),
    layer: map.layer as Layer,
    specialties: (map.specialties ?? []) as Specialty[],
    capacity: toNumber(map.capacity),
    demo: Boolean(map.demo),
    status: map.status as AgentStatus,
    load: toNumber(map.load),
    completed: toNumber(map.completed),
    failed: toNumber(map.failed),
    consecutiveFailures: toNumber(map.consecutiveFailures),
    averageQuality: toNumber(map.averageQuality),
    averageDurationMs: toNumber(map.averageDurationMs),
    lastHeartbeat: toNumber(map.lastHeartbeat),
    registeredAt: toNumber(map.registeredAt),
  };
  if (typeof map.role === 'string') record.role = map.role;
  if (typeof map.supervisorId === 'string') record.supervisorId = map.supervisorId;
  if (typeof map.tenant === 'string') record.tenant = map.tenant;
  return record;
}
