import { groupOf, qualityGateThreshold, type Complexity, type Phase, type RiskLevel, type Specialty, type SpecialtyGroup } from '../../shared/domain/vocabulary.js';
import type { Plan, PlannedSubtask, QualityGate } from '../../shared/domain/workflow.js';
import type { PlanRequest, Planner } from '../../shared/ports/planner.port.js';
import { OrchestrationError } from '../../shared/errors.js';
import { assessComplexity } from './complexity.js';
import { matchPatterns, selectSpecialists, tokenize, type Selected } from './patterns.js';

/*
 * The deterministic planner (the default `Planner`). Rules, all documented where they live:
 * complexity — complexity.ts; patterns and specialist selection — patterns.ts (SIMPLE plans are one
 * subtask and nothing else; other levels add QA and a final delivery approval); phases research →
 * analysis → production → qa → delivery, each depending on the whole previous non-empty phase;
 * hours = critical path; cost = Σ hours × group rate; risk — assessRisk; approval per the spec.
 */
export { classifyComplexity } from './complexity.js';

const phaseOrder: readonly Phase[] = ['research', 'analysis', 'production', 'qa', 'delivery'];

/** Working minutes of one subtask per phase at COMPLEX scale; other levels scale it (SIMPLE is a flat 25 min). */
const baseMinutes: Record<Phase, number> = { research: 60, analysis: 60, production: 90, qa: 30, delivery: 15 };
const minuteScale: Record<Complexity, number> = { SIMPLE: 1, MODERATE: 0.5, COMPLEX: 1, ENTERPRISE: 2, INVESTIGATION: 2.5 };
const SIMPLE_MINUTES = 25;

/** Agent cost in USD per working hour, by specialty group: estimatedCost = Σ hours(subtask) × rate(group). */
export const hourlyRate: Record<SpecialtyGroup, number> = { research: 2, analysis: 2.5, creative: 2, technical: 3, investigation: 4, qa: 1.5 };

const texts: Record<SpecialtyGroup | 'delivery', { action: string; success: string[]; checkpoints: string[] }> = {
  research: { action: 'Gather and cite sources', success: ['Findings cover every question in the request', 'Every claim cites a credible source'], checkpoints: ['Source credibility reviewed', 'Coverage checked against the request'] },
  analysis: { action: 'Analyse the gathered material', success: ['Conclusions follow from the evidence', 'Assumptions and uncertainty are stated'], checkpoints: ['Method reviewed', 'Key figures reproduced'] },
  creative: { action: 'Produce the deliverable', success: ['The deliverable answers the request', 'Clear structure and consistent style'], checkpoints: ['Draft reviewed against the brief', 'Format and visuals checked'] },
  technical: { action: 'Assess the technical system', success: ['Findings reference the affected components', 'Recommendations are prioritised by impact'], checkpoints: ['Findings peer-reviewed', 'Claims about the system verified'] },
  investigation: { action: 'Investigate and compile evidence', success: ['Chain of custody preserved for all evidence', 'Timeline and findings documented'], checkpoints: ['Evidence integrity verified', 'Conclusions supported by evidence'] },
  qa: { action: 'Review the work so far', success: ['Issues reported with severity', 'Work meets the phase quality gate'], checkpoints: ['Checked against the gate threshold'] },
  delivery: { action: 'Approve and deliver the final output', success: ['All quality gates passed', 'Final output delivered to the requester'], checkpoints: [`Output quality ≥ ${qualityGateThreshold.output_quality}`] },
};

interface Draft extends Selected {
  phase: Phase;
  minutes: number;
  deps: number[];
}

const phaseOf = (specialty: Specialty): Phase => {
  const group = groupOf(specialty);
  if (specialty === 'final_delivery_approver') return 'delivery';
  if (group === 'research' || group === 'analysis' || group === 'qa') return group;
  return 'production';
};
const round2 = (value: number): number => Math.round(value * 100) / 100;

/** Each phase's subtasks depend on every subtask of the previous non-empty phase; input is in phase order. */
function layer(drafts: Draft[]): void {
  let previous: number[] = [];
  for (const phase of phaseOrder) {
    const members = drafts.flatMap((draft, index) => (draft.phase === phase ? [index] : []));
    for (const index of members) (drafts[index] as Draft).deps = [...previous];
    if (members.length > 0) previous = members;
  }
}

/** Drops the lowest-priority subtasks (ties: the later one) until `limit` remain, never the last one;
 *  dependents inherit the dropped subtask's dependencies, then redundant (implied) edges are removed. */
function trim(drafts: Draft[], limit: number): Draft[] {
  const dropped = new Set<number>();
  while (drafts.length - dropped.size > limit) {
    let victim = -1;
    for (let i = drafts.length - 2; i >= 0; i -= 1) {
      if (dropped.has(i)) continue;
      if (victim < 0 || (drafts[i] as Draft).priority < (drafts[victim] as Draft).priority) victim = i;
    }
    if (victim < 0) break;
    dropped.add(victim);
  }
  const resolved = new Map<number, Set<number>>(); // index → the kept subtasks it stands for
  const kept: Draft[] = [];
  const ancestors: Set<number>[] = [];
  drafts.forEach((draft, index) => {
    const deps = new Set<number>();
    for (const dep of draft.deps) for (const target of resolved.get(dep) ?? []) deps.add(target);
    if (dropped.has(index)) {
      resolved.set(index, deps); // dependents of a dropped subtask inherit its dependencies
      return;
    }
    const position = kept.length;
    const reduced = [...deps].filter((dep) => ![...deps].some((other) => other !== dep && (ancestors[other] as Set<number>).has(dep)));
    ancestors.push(new Set([...deps].flatMap((dep) => [dep, ...(ancestors[dep] as Set<number>)])));
    resolved.set(index, new Set([position]));
    kept.push({ ...draft, deps: reduced.sort((a, b) => a - b) });
  });
  return kept;
}

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

function qualityGates(complexity: Complexity, subtasks: readonly PlannedSubtask[]): QualityGate[] {
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
const humanize = (specialty: Specialty): string => specialty.replaceAll('_', ' ');
const capitalize = (text: string): string => text.charAt(0).toUpperCase() + text.slice(1);

/** The deterministic plan for a request: pure, synchronous, linear in the description's length. */
export function planTask(request: PlanRequest): Plan {
  const limit = Number.isNaN(request.maxSubtasks) ? 0 : Math.floor(request.maxSubtasks);
  if (limit < 1) throw new OrchestrationError('INVALID_PLAN_REQUEST', `maxSubtasks must be at least 1, got ${request.maxSubtasks}`);
  const { words, wordCount } = tokenize(request.description);
  const patterns = matchPatterns(words);
  const { complexity, confidence } = assessComplexity(wordCount, words, patterns);

  const drafts: Draft[] = selectSpecialists(patterns, complexity)
    .map((selected, order) => ({ selected, order, phase: phaseOf(selected.specialty) }))
    .sort((a, b) => phaseOrder.indexOf(a.phase) - phaseOrder.indexOf(b.phase) || b.selected.priority - a.selected.priority || a.order - b.order)
    .map(({ selected, phase }) => ({
      ...selected,
      phase,
      minutes: complexity === 'SIMPLE' ? SIMPLE_MINUTES : Math.round(baseMinutes[phase] * minuteScale[complexity]),
      deps: [],
    }));
  layer(drafts);
  const about = excerpt(request.description);
  const subtasks: PlannedSubtask[] = trim(drafts, limit).map((draft, index, kept) => {
    const text = texts[draft.phase === 'delivery' ? 'delivery' : groupOf(draft.specialty)];
    return {
      id: `${request.workflowId}.s${index + 1}`,
      title: draft.phase === 'delivery' ? 'Final delivery approval' : `${capitalize(draft.label)} (${humanize(draft.specialty)})`,
      description: `${text.action} (${draft.label}) for the request: "${about}"`,
      specialty: draft.specialty,
      phase: draft.phase,
      estimatedMinutes: draft.minutes,
      priority: draft.priority,
      dependsOn: draft.deps.map((dep) => `${request.workflowId}.s${dep + 1}`),
      successCriteria: [...text.success],
      qualityCheckpoints: [...text.checkpoints],
      reviewRequired: kept.length > 1 && (draft.phase === 'research' || draft.phase === 'analysis' || draft.phase === 'production'),
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
