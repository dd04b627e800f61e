import type { AgentStatus, Layer, Specialty, SpecialtyGroup } from '../domain/vocabulary.js';

export interface AgentRegistration {
  id: string;
  layer: Layer;
  role?: string;
  specialties: Specialty[];
  supervisorId?: string;
  capacity: number;
  demo: boolean;
}

export interface AgentRecord extends AgentRegistration {
  status: AgentStatus;
  load: number;
  completed: number;
  failed: number;
  consecutiveFailures: number;
  averageQuality: number;
  averageDurationMs: number;
  lastHeartbeat: number;
  registeredAt: number;
}

export interface WorkOutcome {
  success: boolean;
  quality: number;
  durationMs: number;
}

export interface LayerStatus {
  count: number;
  available: number;
  averageLoad: number;
}

export interface HierarchyStatus {
  totalAgents: number;
  layers: Record<Layer, LayerStatus>;
  pools: Record<SpecialtyGroup, { count: number; load: number; capacity: number }>;
  health: { healthy: number; degraded: number; failed: number; offline: number };
  load: { available: number; busy: number; overloaded: number };
}

export interface AgentDirectory {
  register(agent: AgentRegistration, now: number): Promise<AgentRecord>;
  get(agentId: string): Promise<AgentRecord | null>;
  list(): Promise<AgentRecord[]>;
  /** Specialists (and execution agents) offering the specialty, in any state. */
  candidates(specialty: Specialty): Promise<AgentRecord[]>;
  /** Takes one of the agent's slots for `workKey`; idempotent per key; false when at capacity. */
  reserve(agentId: string, workKey: string): Promise<boolean>;
  /** Frees the slot of `workKey` and, the first time only, records the outcome. */
  release(agentId: string, workKey: string, outcome?: WorkOutcome): Promise<void>;
  heartbeat(agentId: string, now: number): Promise<void>;
  setStatus(agentId: string, status: AgentStatus): Promise<void>;
  /** How many agents of the group's pool were registered since `since` (ms): the spawn-rate window. */
  spawnedSince(group: SpecialtyGroup, since: number): Promise<number>;
  hierarchyStatus(now: number, heartbeatTimeoutMs: number): Promise<HierarchyStatus>;
  close(): Promise<void>;
}

/** Starts a new agent for a specialty when the pool allows (embedded: a demo agent). */
export interface AgentSpawner {
  spawn(specialty: Specialty, agentId: string): Promise<AgentRegistration | null>;
}
