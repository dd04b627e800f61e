import type { QualityGateName } from '../../shared/domain/vocabulary.js';
import type { Subtask, Workflow } from '../../shared/domain/workflow.js';

export interface GateResult {
  name: QualityGateName;
  threshold: number;
  score: number;
  passed: boolean;
  /** The lowest-quality subtask of the phase: the one re-run when the gate fails. */
  weakest: Subtask;
}

/**
 * Fires a phase's quality gates when its last subtask completes: the phase's mean quality must reach
 * every gate of the phase. Returns the strictest gate missed, or the strictest gate when all pass.
 */
export function evaluatePhaseGate(workflow: Workflow, subtasks: readonly Subtask[], phase: string): GateResult | null {
  const gates = (workflow.plan?.qualityGates ?? []).filter((g) => g.phase === phase).sort((a, b) => b.threshold - a.threshold);
  const members = subtasks.filter((s) => s.phase === phase);
  const strictest = gates[0];
  if (!strictest || members.length === 0 || members.some((s) => s.status !== 'completed')) return null;
  const score = members.reduce((sum, s) => sum + (s.quality ?? 0), 0) / members.length;
  const weakest = members.reduce((low, s) => ((s.quality ?? 0) < (low.quality ?? 0) ? s : low));
  // The epsilon keeps float summation (0.95 × 3 / 3 = 0.94999…) from failing a gate that was met.
  const passed = score + 1e-9 >= strictest.threshold;
  return { name: strictest.name, threshold: strictest.threshold, score, passed, weakest };
}
