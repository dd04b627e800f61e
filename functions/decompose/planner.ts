import { groupOf, qualityGateThreshold, type Complexity, type Phase, type RiskLevel, type SpecialtyGroup } from '../../shared/domain/vocabulary.js';
import type { Plan, PlannedSubtask, QualityGate } from '../../shared/domain/workflow.js';
import type { PlanRequest, Planner } from '../../shared/ports/planner.port.js';
import { OrchestrationError } from '../../shared/errors.js';
import { assessComplexity } from './complexity.js';
import { dependencies, phaseOf, phaseOrder, trim, type Node } from './dag.js';
import { matchPatterns, tokenize, workMode } from './patterns.js';
import { selectSpecialists } from './selection.js';
import { subjectOf, titleOf } from './titles.js';

/*
 * The deterministic planner (the default `Planner`). Rules, all documented where they live:
 * complexity — complexity.ts; patterns — pattern-catalogue.ts; specialist selection — selection.ts
 * (SIMPLE plans are one subtask and nothing else; other levels add QA and a final delivery approval);
 * phases and who depends on whom — dag.ts (parallel branches, each subtask after what it uses);
 * titles — titles.ts; hours = critical path; cost = Σ hours × group rate; risk — assessRisk;
 * approval per the spec.
 */
export { classifyComplexity } from './complexity.js';

/** Working minutes of one subtask per phase at COMPLEX scale; other levels scale it (SIMPLE is a flat 25 min). */
const baseMinutes: Record<Phase, number> = { research: 60, analysis: 60, production: 90, qa: 30, delivery: 15 };
const minuteScale: Record<Complexity, number> = { SIMPLE: 1, MODERATE: 0.5, COMPLEX: 1, ENTERPRISE: 2, INVESTIGATION: 2.5 };
const SIMPLE_MINUTES = 25;

/** Agent cost in USD per working hour, by specialty group: estimatedCost = Σ hours(subtask) × rate(group). */
export const hourlyRate: Record<SpecialtyGroup, number> = { research: 2, analysis: 2.5, creative: 2, technical: 3, investigation: 4, qa: 1.5 };

const texts: Record<SpecialtyGroup | 'delivery', { success: string[]; checkpoints: string[] }> = {
  research: {
    success: ['Findings cover every question in the request', 'Every claim cites a credible source'],
    checkpoints: ['Source credibility reviewed', 'Coverage checked against the request'],
  },
  analysis: {
    success: ['Conclusions follow from the evidence', 'Assumptions and uncertainty are stated'],
    checkpoints: ['Method reviewed', 'Key figures reproduced'],
  },
  creative: {
    success: ['The deliverable answers the request', 'Clear structure and consistent style'],
    checkpoints: ['Draft reviewed against the brief', 'Format and visuals checked'],
  },
  technical: {
    success: ['Findings reference the affected components', 'Recommendations are prioritised by impact'],
    checkpoints: ['Findings peer-reviewed', 'Claims about the system verified'],
  },
  investigation: {
    success: ['Chain of custody preserved for all evidence', 'Timeline and findings documented'],
    checkpoints: ['Evidence integrity verified', 'Conclusions supported by evidence'],
  },
  qa: { success: ['Issues reported with severity', 'Work meets the phase quality gate'], checkpoints: ['Checked against the gate threshold'] },
  delivery: {
    success: ['All quality gates passed', 'Final output delivered to the requester'],
    checkpoints: [`Output quality ≥ ${qualityGateThreshold.output_quality}`],
  },
};

const round2 = (value: number): number => Math.round(value * 100) / 100;

/** Longest path of minutes through the DAG (subtasks in topological order). */
export function criticalPathMinutes(subtasks: readonly Pick<PlannedSubtask, 'id' | 'estimatedMinutes' | 'dependsOn'>[]): number {
  const finish = new Map<string, number>();
  let longest = 0;
  for (const subtask of subtasks) {
    const start = Math.max(0, ...subtask.dependsOn.map((dep) => finish.get(dep) ?? 0));
    finish.set(subtask.id, start + subtask.estimatedMinutes);
    longest = Math.max(longest, start + subtask.estimatedMinutes);
  }
  return longest;
}

/**
 * Risk points: hours (> 2: 1, > 8: 2, > 12: 3) + complexity (COMPLEX 1, ENTERPRISE / INVESTIGATION 2)
 * + distinct specialists (≥ 5: 1, ≥ 8: 2) + cost (> $15: 1, > $30: 2).
 * 0–1 low, 2–3 medium, 4–5 high, ≥ 6 critical.
 */
export function assessRisk(hours: number, complexity: Complexity, specialists: number, cost: number): RiskLevel {
  const points =
    (hours > 12 ? 3 : hours > 8 ? 2 : hours > 2 ? 1 : 0) +
    (complexity === 'COMPLEX' ? 1 : complexity === 'ENTERPRISE' || complexity === 'INVESTIGATION' ? 2 : 0) +
    (specialists >= 8 ? 2 : specialists >= 5 ? 1 : 0) +
    (cost > 30 ? 2 : cost > 15 ? 1 : 0);
  return points >= 6 ? 'critical' : points >= 4 ? 'high' : points >= 2 ? 'medium' : 'low';
}

/** The spec's gates for the phases a plan has (the LLM planner's drafts get the same). */
export function qualityGates(complexity: Complexity, subtasks: readonly PlannedSubtask[]): QualityGate[] {
  const present = phaseOrder.filter((phase) => subtasks.some((subtask) => subtask.phase === phase));
  if (present.length === 0) return [];
  const gate = (name: QualityGate['name'], phase: Phase): QualityGate => ({ name, phase, threshold: qualityGateThreshold[name] });
  const beforeDelivery = present.filter((phase) => phase !== 'delivery').at(-1) ?? 'delivery';
  const gates: QualityGate[] = [];
  if (present.includes('research')) gates.push(gate('research_completeness', 'research'));
  if (present.includes('analysis')) gates.push(gate('analysis_accuracy', 'analysis'));
  gates.push(gate('output_quality', beforeDelivery));
  if (complexity === 'ENTERPRISE' || complexity === 'INVESTIGATION') {
    const reviewer = subtasks.find((subtask) => subtask.specialty === 'compliance_reviewer');
    gates.push(gate('compliance_review', reviewer?.phase ?? beforeDelivery));
  }
  return gates;
}

const excerpt = (description: string): string => {
  const flat = description.replace(/\s+/g, ' ').trim();
  return flat.length > 160 ? `${flat.slice(0, 160)}…` : flat;
};
const listed = (steps: readonly number[]): string => (steps.length === 1 ? `step ${steps[0]}` : `steps ${steps.slice(0, -1).join(', ')} and ${steps.at(-1)}`);

/** The deterministic plan for a request: pure, synchronous, linear in the description's length. */
export function planTask(request: PlanRequest): Plan {
  const limit = Number.isNaN(request.maxSubtasks) ? 0 : Math.floor(request.maxSubtasks);
  if (limit < 1) throw new OrchestrationError('INVALID_PLAN_REQUEST', `maxSubtasks must be at least 1, got ${request.maxSubtasks}`);
  const { words, wordCount } = tokenize(request.description);
  const patterns = matchPatterns(words);
  const { complexity, confidence } = assessComplexity(wordCount, words, patterns);
  const mode = workMode(request.description);

  const nodes: Node[] = selectSpecialists(patterns, complexity)
    .map((selected, order) => ({ node: { ...selected, phase: phaseOf(selected.specialty, mode) }, order }))
    .sort((a, b) => phaseOrder.indexOf(a.node.phase) - phaseOrder.indexOf(b.node.phase) || b.node.priority - a.node.priority || a.order - b.order)
    .map(({ node }) => node);
  const kept = trim(nodes, limit);
  const edges = dependencies(kept, patterns);
  const subject = subjectOf(request.description);
  const about = excerpt(request.description);
  const subtasks: PlannedSubtask[] = kept.map((node, index) => {
    const text = texts[node.phase === 'delivery' ? 'delivery' : groupOf(node.specialty)];
    const title = titleOf(node.specialty, node.origin, mode, subject);
    const deps = edges[index] ?? [];
    const inputs = deps.length > 0 ? ` Builds on the output of ${listed(deps.map((dep) => dep + 1))}.` : '';
    return {
      id: `${request.workflowId}.s${index + 1}`,
      title,
      description: `${title.slice(0, title.lastIndexOf(':'))} for the request "${about}".${inputs}`,
      specialty: node.specialty,
      phase: node.phase,
      estimatedMinutes: complexity === 'SIMPLE' ? SIMPLE_MINUTES : Math.round(baseMinutes[node.phase] * minuteScale[complexity]),
      priority: node.priority,
      dependsOn: deps.map((dep) => `${request.workflowId}.s${dep + 1}`),
      successCriteria: [...text.success],
      qualityCheckpoints: [...text.checkpoints],
      reviewRequired: kept.length > 1 && (node.phase === 'research' || node.phase === 'analysis' || node.phase === 'production'),
    };
  });

  const estimatedHours = round2(criticalPathMinutes(subtasks) / 60);
  const estimatedCost = round2(subtasks.reduce((sum, s) => sum + (s.estimatedMinutes / 60) * hourlyRate[groupOf(s.specialty)], 0));
  const requiredSpecialists = [...new Set(subtasks.map((subtask) => subtask.specialty))];
  const risk = assessRisk(estimatedHours, complexity, requiredSpecialists.length, estimatedCost);
  return {
    complexity,
    confidence,
    patterns: patterns.map((pattern) => pattern.name),
    subtasks,
    phases: phaseOrder
      .map((phase) => ({ phase, subtaskIds: subtasks.filter((subtask) => subtask.phase === phase).map((subtask) => subtask.id) }))
      .filter((entry) => entry.subtaskIds.length > 0),
    estimatedHours,
    estimatedCost,
    requiredSpecialists,
    qualityGates: qualityGates(complexity, subtasks),
    risk,
    approvalRequired: estimatedCost > 15 || estimatedHours > 12 || risk === 'high' || risk === 'critical' || complexity === 'INVESTIGATION',
  };
}

/** The default `Planner`: the deterministic planner behind the port's async signature. */
export const deterministicPlanner: Planner = {
  plan: (request) => {
    try {
      return Promise.resolve(planTask(request));
    } catch (error) {
      return Promise.reject(error);
    }
  },
};
