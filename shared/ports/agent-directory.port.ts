import type { AgentStatus, Layer, Specialty, SpecialtyGroup } from '../domain/vocabulary.js';

export interface AgentRegistration {
  id: string;
  layer: Layer;
  role?: string;
  specialties: Specialty[];
  supervisorId?: string;
  capacity: number;
  demo: boolean;
  /** The tenant whose work alone this agent takes (see servesTenant); absent: shared by every tenant. */
  tenant?: string;
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

/** One (agent)-[:WORKED_ON]->(subtask) edge: who worked on what, and how it went. */
export interface WorkRecord extends WorkOutcome {
  subtaskId: string;
  workflowId: string;
  at: number;
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
  /** Specialists (and execution agents) offering the specialty, in any state; with a tenant, only its own and shared ones. */
  candidates(specialty: Specialty, tenant?: string): Promise<AgentRecord[]>;
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

  // The hierarchy: optional, so an adapter without it still serves; callers fall back to `supervisorId`.
  /** The agent this one reports to (REPORTS_TO, i.e. its `supervisorId`), or null. */
  supervisorOf?(agentId: string): Promise<AgentRecord | null>;
  /** The group's management lead (role `leadRoleOf[group]`, MANAGEMENT layer), preferring one without an explicit status. */
  leadFor?(group: SpecialtyGroup): Promise<AgentRecord | null>;
  /** Records that the agent worked on the subtask, once per (agent, subtask); false when already recorded. */
  recordWork?(agentId: string, subtaskId: string, workflowId: string, outcome: WorkOutcome, at?: number): Promise<boolean>;
  /** What the agent worked on, oldest first. */
  workOf?(agentId: string): Promise<WorkRecord[]>;
}

/** Starts a new agent for a specialty when the pool allows (embedded: a demo agent). */
export interface AgentSpawner {
  spawn(specialty: Specialty, agentId: string): Promise<AgentRegistration | null>;
}
