import { groupOf, type Phase, type Specialty } from '../../shared/domain/vocabulary.js';
import type { RequestPattern } from './patterns.js';
import type { Selected } from './selection.js';

/*
 * The plan's graph: which subtask uses whose output. The complete handler releases a subtask only when
 * its dependencies are completed AND their phases are closed (quality gates fire per phase), so every
 * edge goes to a strictly earlier phase — an edge inside a phase would wait for itself and deadlock.
 * Phases follow the work's stage rather than the specialist's group alone: evidence acquisition is the
 * investigation's research, the case timeline its analysis; a system's design comes before building it.
 */
export const phaseOrder: readonly Phase[] = ['research', 'analysis', 'production', 'qa', 'delivery'];

export interface Node extends Selected {
  phase: Phase;
}

const researchStage: readonly Specialty[] = ['digital_forensics_expert', 'network_security_analyzer', 'reverse_engineering_specialist'];
const analysisStage: readonly Specialty[] = ['case_investigation_manager', 'system_architect'];
/** Technical examiners: side by side with the design when assessing, after it when building. */
const examiners: readonly Specialty[] = ['code_reviewer_optimizer', 'security_analyst', 'performance_engineer', 'devops_specialist'];

export function phaseOf(specialty: Specialty, mode: 'build' | 'assess'): Phase {
  if (specialty === 'final_delivery_approver') return 'delivery';
  const group = groupOf(specialty);
  if (group === 'qa') return 'qa';
  if (group === 'research' || researchStage.includes(specialty)) return 'research';
  if (group === 'analysis' || analysisStage.includes(specialty)) return 'analysis';
  if (examiners.includes(specialty)) return mode === 'build' ? 'production' : 'analysis';
  return 'production';
}

type Track = 'business' | 'technical' | 'investigation';
const trackOf = (specialty: Specialty): Track => {
  const group = groupOf(specialty);
  return group === 'technical' || group === 'investigation' ? group : 'business';
};
/** Whose output a track's work reads: technical and investigation work share the system and its evidence. */
const reads: Record<Track, readonly Track[]> = {
  business: ['business'],
  technical: ['technical', 'investigation'],
  investigation: ['investigation', 'technical'],
};
const checksClaims = (specialty: Specialty): boolean => groupOf(specialty) !== 'technical';

/**
 * The earlier subtasks `node` uses, before transitive reduction. Delivery takes everything; compliance
 * review checks all the work; fact checking the claims (research, analysis, writing, evidence); output
 * quality and proofreading the deliverables; a deliverable (the evidence report included) presents all the
 * work before it; other work
 * reads its own track — preferring the subtasks of its own request pattern, so parallel branches stay apart.
 */
function uses(node: Node, earlier: readonly Node[], patterns: readonly RequestPattern[]): Node[] {
  const working = earlier.filter((other) => other.phase !== 'qa' && other.phase !== 'delivery');
  const orAll = (chosen: Node[]): Node[] => (chosen.length > 0 ? chosen : working);
  if (node.phase === 'delivery') return [...earlier];
  if (node.specialty === 'compliance_reviewer') return working;
  if (node.specialty === 'fact_checker_validator') return orAll(working.filter((other) => checksClaims(other.specialty)));
  if (node.phase === 'qa') return orAll(working.filter((other) => other.phase === 'production'));
  if (groupOf(node.specialty) === 'creative' || node.specialty === 'evidence_compilation_expert') return working;
  const related = working.filter((other) => reads[trackOf(node.specialty)].includes(trackOf(other.specialty)) || other.origin === 'supporting');
  const sharesPattern = (other: Node): boolean =>
    other.origin === node.origin || patterns.some((pattern) => pattern.specialists.includes(node.specialty) && pattern.specialists.includes(other.specialty));
  const own = related.filter(sharesPattern);
  return own.length > 0 ? related.filter((other) => sharesPattern(other) || other.origin === 'supporting') : related;
}

/** Dependencies (as indices into `nodes`, which are in phase order), transitively reduced: no edge another path implies. */
export function dependencies(nodes: readonly Node[], patterns: readonly RequestPattern[]): number[][] {
  const ancestors: Set<number>[] = [];
  return nodes.map((node, index) => {
    const earlier = nodes.slice(0, index).filter((other) => phaseOrder.indexOf(other.phase) < phaseOrder.indexOf(node.phase));
    const direct = uses(node, earlier, patterns).map((other) => nodes.indexOf(other));
    const reduced = direct.filter((dep) => !direct.some((other) => other !== dep && (ancestors[other] as Set<number>).has(dep)));
    ancestors.push(new Set(direct.flatMap((dep) => [dep, ...(ancestors[dep] as Set<number>)])));
    return reduced.sort((a, b) => a - b);
  });
}

/**
 * Keeps at most `limit` subtasks: the lowest priority goes first (ties: the later one), the final
 * delivery never while two or more remain. With a limit of one, the highest-priority working subtask stays.
 */
export function trim<T extends Node>(nodes: readonly T[], limit: number): T[] {
  if (nodes.length <= limit) return [...nodes];
  const rank = nodes.map((node, index) => ({ node, index })).filter(({ node }) => limit > 1 || node.phase !== 'delivery');
  const keep = new Set(
    rank
      .sort((a, b) => Number(b.node.phase === 'delivery') - Number(a.node.phase === 'delivery') || b.node.priority - a.node.priority || a.index - b.index)
      .slice(0, limit)
      .map(({ index }) => index),
  );
  return nodes.filter((_, index) => keep.has(index));
}
