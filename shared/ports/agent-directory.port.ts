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

/** Where a result sits in the workflow's lineage: its attempt, what it built on, and whether it produced an output. */
export interface WorkLineage {
  attempt: number;
  /** The subtasks whose outputs it was given (Subtask -[:DEPENDS_ON]-> Subtask). */
  dependsOn: readonly string[];
  /** A result with an output (subtask.completed, accepted or not); a reported failure produced none. */
  produced: boolean;
}

/** One (subtask)-[:PRODUCED]->(output)-[:PRODUCED_BY]->(agent): the output of one attempt. */
export interface OutputRecord {
  /** The output's reference: `<subtaskId>#<attempt>`. */
  id: string;
  subtaskId: string;
  attempt: number;
  agentId: string;
  /** Whether the result passed the quality threshold. */
  success: boolean;
  quality: number;
  durationMs: number;
  at: number;
}

/** A workflow's lineage as the graph holds it: the subtasks it saw with their dependencies, and every output. */
export interface LineageRecord {
  subtasks: { id: string; dependsOn: string[] }[];
  /** By subtask id, then attempt. */
  outputs: OutputRecord[];
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
  /**
   * Every slot held, by agent and work key (no order). The recovery loop's reconcile reads it to free
   * slots whose release effect was lost (a crash after the commit that ended the work).
   */
  heldWork(): Promise<{ agentId: string; workKey: string }[]>;
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
  /**
   * Records that the agent worked on the subtask, once per (agent, subtask); with `lineage`, also the
   * subtask's dependencies and, when it produced one, the attempt's output (once per subtask and
   * attempt). False when all of it was recorded already.
   */
  recordWork?(agentId: string, subtaskId: string, workflowId: string, outcome: WorkOutcome, at?: number, lineage?: WorkLineage): Promise<boolean>;
  /** The workflow's lineage: subtasks with their DEPENDS_ON edges and the outputs they PRODUCED (empty when unknown). */
  lineageOf?(workflowId: string): Promise<LineageRecord>;
  /** What the agent worked on, oldest first. */
  workOf?(agentId: string): Promise<WorkRecord[]>;
}

/** Starts a new agent for a specialty when the pool allows (embedded: a demo agent). */
export interface AgentSpawner {
  spawn(specialty: Specialty, agentId: string): Promise<AgentRegistration | null>;
}
