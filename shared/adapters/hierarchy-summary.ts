import type { Layer, SpecialtyGroup } from '../domain/vocabulary.js';
import { groupOf, layerSchema, specialtyGroupSchema } from '../domain/vocabulary.js';
import type { AgentRecord, HierarchyStatus } from '../ports/agent-directory.port.js';

/** The order every directory adapter lists agents in: ids by code unit, as Cypher's ORDER BY and DynamoDB's sort keys compare them. */
export const byAgentId = (a: Pick<AgentRecord, 'id'>, b: Pick<AgentRecord, 'id'>): number => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The port's hierarchy summary over a set of records: one set of rules for every directory adapter. */
export function summariseHierarchy(
  records: readonly AgentRecord[],
  now: number,
  heartbeatTimeoutMs: number,
  capacityOf: (record: AgentRecord) => number,
): HierarchyStatus {
  // Floating-point sums depend on their order: sum in id order, so every adapter (whatever order its
  // store returns) reports the same averages to the last digit.
  records = [...records].sort(byAgentId);
  const inGroup = (record: AgentRecord, group: SpecialtyGroup): boolean => record.specialties.some((specialty) => groupOf(specialty) === group);
  const layers = Object.fromEntries(
    layerSchema.options.map((layer) => {
      const members = records.filter((record) => record.layer === layer);
      const utilisation = members.reduce((sum, r) => sum + r.load / Math.max(capacityOf(r), 1), 0);
      const available = members.filter((r) => r.status === 'AVAILABLE').length;
      return [layer, { count: members.length, available, averageLoad: members.length ? utilisation / members.length : 0 }];
    }),
  ) as Record<Layer, HierarchyStatus['layers'][Layer]>;
  const pools = Object.fromEntries(
    specialtyGroupSchema.options.map((group) => {
      const members = records.filter((record) => inGroup(record, group));
      const load = members.reduce((sum, r) => sum + r.load, 0);
      return [group, { count: members.length, load, capacity: members.reduce((sum, r) => sum + capacityOf(r), 0) }];
    }),
  ) as HierarchyStatus['pools'];
  const health = { healthy: 0, degraded: 0, failed: 0, offline: 0 };
  const load = { available: 0, busy: 0, overloaded: 0 };
  for (const record of records) {
    if (record.status === 'FAILED') health.failed += 1;
    else if (record.status === 'OFFLINE' || record.status === 'MAINTENANCE') health.offline += 1;
    else if (now - record.lastHeartbeat > heartbeatTimeoutMs || record.consecutiveFailures > 0) health.degraded += 1;
    else health.healthy += 1;
    if (record.status === 'AVAILABLE') load.available += 1;
    if (record.status === 'BUSY') load.busy += 1;
    if (record.status === 'OVERLOADED') load.overloaded += 1;
  }
  return { totalAgents: records.length, layers, pools, health, load };
}
