import type { Config } from '../../shared/config.js';
import type { AgentRecord } from '../../shared/ports/index.js';

export interface HealthRules {
  now: number;
  heartbeatTimeoutMs: number;
  failureThreshold: number;
}

export const healthRules = (now: number, config: Pick<Config, 'ORCHESTRATION_HEARTBEAT_INTERVAL' | 'ORCHESTRATION_AGENT_FAILURE_THRESHOLD'>): HealthRules => ({
  now,
  heartbeatTimeoutMs: config.ORCHESTRATION_HEARTBEAT_INTERVAL * 3000,
  failureThreshold: config.ORCHESTRATION_AGENT_FAILURE_THRESHOLD,
});

/** Healthy: not failed/offline/in maintenance, a recent heartbeat, and fewer failures than the threshold. */
export function isHealthy(agent: AgentRecord, rules: HealthRules): boolean {
  if (agent.status === 'FAILED' || agent.status === 'OFFLINE' || agent.status === 'MAINTENANCE') return false;
  if (rules.now - agent.lastHeartbeat > rules.heartbeatTimeoutMs) return false;
  return agent.consecutiveFailures < rules.failureThreshold;
}

/**
 * The spec's assignment score: 0.3 × (1 − load) + 0.3 × quality + 0.25 × success rate + 0.15 × speed.
 * An agent without history is assumed average (0.8 quality, full success, one-minute tasks).
 */
export function assignmentScore(agent: AgentRecord): number {
  const load = agent.capacity > 0 ? Math.min(1, agent.load / agent.capacity) : 1;
  const finished = agent.completed + agent.failed;
  const quality = finished > 0 ? agent.averageQuality : 0.8;
  const successRate = finished > 0 ? agent.completed / finished : 1;
  const averageMs = finished > 0 ? agent.averageDurationMs : 60_000;
  const speed = 1 / (1 + averageMs / 60_000);
  return 0.3 * (1 - load) + 0.3 * quality + 0.25 * successRate + 0.15 * speed;
}

/** Healthy candidates best first; agents to avoid (the last attempt's) go last, not away. */
export function rankCandidates(candidates: AgentRecord[], rules: HealthRules, avoid: readonly string[]): AgentRecord[] {
  return candidates
    .filter((agent) => isHealthy(agent, rules) && agent.load < agent.capacity)
    .map((agent) => ({ agent, avoided: avoid.includes(agent.id), score: assignmentScore(agent) }))
    .sort((a, b) => Number(a.avoided) - Number(b.avoided) || b.score - a.score || a.agent.id.localeCompare(b.agent.id))
    .map((entry) => entry.agent);
}

/**
 * Agents benched by consecutive failures but otherwise alive (recent heartbeat, not FAILED/OFFLINE)
 * get one probation task at a time, and only when no healthy agent and no spawn can take the work:
 * like a circuit breaker's half-open trial, one success puts them back in rotation (it resets the
 * count), so a specialty whose agents all stumbled — e.g. after their process was killed — recovers
 * instead of waiting for ever. Fewest failures first.
 */
export function probationCandidates(candidates: AgentRecord[], rules: HealthRules): AgentRecord[] {
  return candidates
    .filter((agent) => !isHealthy(agent, rules) && isHealthy({ ...agent, consecutiveFailures: 0 }, rules) && agent.load === 0)
    .sort((a, b) => a.consecutiveFailures - b.consecutiveFailures || a.id.localeCompare(b.id));
}
