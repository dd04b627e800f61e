import type { Principal, Role } from './principal.js';

export type Permission =
  | 'workflows:submit'
  | 'workflows:read'
  | 'workflows:control'
  | 'workflows:decide'
  | 'dead-letters:read'
  | 'dead-letters:redrive'
  | 'agents:read'
  | 'agents:act'
  | 'keys:manage'
  | 'metrics:read';

const grants: Record<Role, readonly Permission[]> = {
  submitter: ['workflows:submit', 'workflows:read'],
  operator: ['workflows:read', 'workflows:control', 'dead-letters:read', 'dead-letters:redrive', 'agents:read', 'metrics:read'],
  approver: ['workflows:read', 'workflows:decide'],
  admin: [
    'workflows:submit',
    'workflows:read',
    'workflows:control',
    'workflows:decide',
    'dead-letters:read',
    'dead-letters:redrive',
    'agents:read',
    'keys:manage',
    'metrics:read',
  ],
  // `agents:act`: register, heartbeat, renew leases, poll work, report — each route also checks the agent is the caller's own (agent-routes.ts).
  agent: ['agents:read', 'agents:act'],
};

export const can = (principal: Principal, permission: Permission): boolean => principal.roles.some((role) => grants[role].includes(permission));

/** A submitter and nothing more that reads workflows sees only those it submitted. */
export const readsOwnOnly = (principal: Principal): boolean => !principal.roles.some((role) => role !== 'submitter' && grants[role].includes('workflows:read'));

/**
 * Which permission each API route needs, in one table so it can be read in one place. A route not
 * listed needs `keys:manage` (admin): a new route is closed until someone decides who may call it.
 * Express matches paths case-insensitively and with a trailing slash; so do these.
 */
const routeTable: readonly [method: string, path: RegExp, permission: Permission][] = [
  ['POST', /^\/v1\/tasks\/?$/i, 'workflows:submit'],
  ['GET', /^\/v1\/workflows\/?$/i, 'workflows:read'],
  ['GET', /^\/v1\/workflows\/[^/]+\/?$/i, 'workflows:read'],
  ['GET', /^\/v1\/workflows\/[^/]+\/events\/?$/i, 'workflows:read'],
  ['GET', /^\/v1\/workflows\/[^/]+\/(attempts|lineage)\/?$/i, 'workflows:read'],
  ['GET', /^\/v1\/workflows\/[^/]+\/subtasks\/[^/]+\/attempts\/?$/i, 'workflows:read'],
  ['GET', /^\/v1\/events\/?$/i, 'workflows:read'],
  ['POST', /^\/v1\/workflows\/[^/]+\/(cancel|pause|resume)\/?$/i, 'workflows:control'],
  ['POST', /^\/v1\/workflows\/[^/]+\/(approve|reject)\/?$/i, 'workflows:decide'],
  ['GET', /^\/v1\/dead-letters\/?$/i, 'dead-letters:read'],
  ['POST', /^\/v1\/dead-letters\/[^/]+\/redrive\/?$/i, 'dead-letters:redrive'],
  ['GET', /^\/v1\/(agents|hierarchy)\/?$/i, 'agents:read'],
  ['POST', /^\/v1\/agents\/register\/?$/i, 'agents:act'],
  ['POST', /^\/v1\/agents\/[^/]+\/(heartbeat|leases|results)\/?$/i, 'agents:act'],
  ['GET', /^\/v1\/agents\/[^/]+\/work\/?$/i, 'agents:act'],
  // Counts over every tenant's messages: operators' data, like /metrics, not an agent's.
  ['GET', /^\/v1\/messages\/metrics\/?$/i, 'metrics:read'],
  ['GET', /^\/metrics\/?$/i, 'metrics:read'],
];

export function permissionFor(method: string, path: string): Permission {
  const verb = method === 'HEAD' ? 'GET' : method;
  return routeTable.find(([m, pattern]) => m === verb && pattern.test(path))?.[2] ?? 'keys:manage';
}
