import { groupOf, type Complexity, type Specialty, type SpecialtyGroup } from '../../shared/domain/vocabulary.js';
import { groupOfPattern, requestPatterns, type RequestPattern } from './patterns.js';

export interface Selected {
  readonly specialty: Specialty;
  /** The pattern (or reason) that brought this specialist in: it words the subtask's title. */
  readonly origin: string;
  /** 1–10; trimming to maxSubtasks drops the lowest first. */
  readonly priority: number;
}

/** Working specialists per level (QA and delivery come on top): spec's 1 / 2–3 / 4–6 / 6+ agents. */
const budget: Record<Complexity, { min: number; max: number }> = {
  SIMPLE: { min: 1, max: 1 },
  MODERATE: { min: 2, max: 3 },
  COMPLEX: { min: 4, max: 6 },
  ENTERPRISE: { min: 6, max: 8 },
  INVESTIGATION: { min: 4, max: 6 },
};
/** Group precedence when picking; technical and investigation first so they are never crowded out. */
const groupPrecedence: readonly SpecialtyGroup[] = ['technical', 'investigation', 'creative', 'research', 'analysis'];
const primaryPriority: Record<SpecialtyGroup, number> = { technical: 9, investigation: 9, creative: 8, research: 7, analysis: 6, qa: 5 };
/** Supporting specialists that fill a plan up to its level's minimum, chosen by the request's leading kind of work. */
const padding: Record<'business' | 'technical' | 'investigation', readonly Specialty[]> = {
  business: [
    'web_intelligence_gatherer',
    'data_analyst',
    'content_writer_editor',
    'academic_researcher',
    'risk_assessment_specialist',
    'graphics_diagram_designer',
    'statistical_modeler',
    'infographic_creator',
  ],
  technical: [
    'system_architect',
    'security_analyst',
    'code_reviewer_optimizer',
    'web_intelligence_gatherer',
    'risk_assessment_specialist',
    'content_writer_editor',
    'performance_engineer',
    'devops_specialist',
  ],
  investigation: [
    'case_investigation_manager',
    'evidence_compilation_expert',
    'digital_forensics_expert',
    'network_security_analyzer',
    'security_analyst',
    'risk_assessment_specialist',
  ],
};
const mandatoryQa: Record<Complexity, readonly Specialty[]> = {
  SIMPLE: [],
  MODERATE: [],
  COMPLEX: ['fact_checker_validator', 'output_quality_controller'],
  ENTERPRISE: ['fact_checker_validator', 'output_quality_controller', 'compliance_reviewer'],
  INVESTIGATION: ['fact_checker_validator', 'output_quality_controller', 'compliance_reviewer'],
};
/** A request that names no kind of work: find out about it and write it up. */
const generalRequest: RequestPattern = {
  name: 'general_request',
  label: 'general request',
  triggers: [],
  specialists: ['content_writer_editor', 'web_intelligence_gatherer'],
};

function paddingFor(working: readonly RequestPattern[], complexity: Complexity): readonly Specialty[] {
  if (complexity === 'INVESTIGATION') return padding.investigation;
  const lead = working[0] ? groupOfPattern(working[0]) : 'research';
  return lead === 'technical' ? padding.technical : lead === 'investigation' ? padding.investigation : padding.business;
}

/**
 * The specialists a plan needs. Every matched pattern's primary specialist is picked (spec defect 2:
 * technical and investigation work is never dropped), even past the level's budget; secondary
 * specialists follow up to the budget, uncovered groups first; a plan short of the minimum is padded with
 * supporting specialists of the request's leading kind of work. SIMPLE keeps one: the primary of the
 * highest-precedence group. COMPLEX and above add the spec's QA; every plan but SIMPLE ends in a final delivery.
 */
export function selectSpecialists(patterns: readonly RequestPattern[], complexity: Complexity): Selected[] {
  let working = patterns.filter((pattern) => groupOfPattern(pattern) !== 'qa');
  const qaPatterns = patterns.filter((pattern) => groupOfPattern(pattern) === 'qa');
  if (complexity === 'INVESTIGATION' && !working.some((pattern) => groupOfPattern(pattern) === 'investigation')) {
    working = [...working, ...requestPatterns.filter((pattern) => pattern.name === 'digital_investigation')];
  }
  // A request for review only ("proofread and fact-check this letter") is the reviewers' work alone.
  if (working.length === 0 && qaPatterns.length === 0) working = [generalRequest];
  working = [...working].sort((a, b) => groupPrecedence.indexOf(groupOfPattern(a)) - groupPrecedence.indexOf(groupOfPattern(b)));

  if (complexity === 'SIMPLE') {
    const only = working[0] ?? qaPatterns[0];
    return only ? [{ specialty: only.specialists[0] as Specialty, origin: only.name, priority: 10 }] : [];
  }
  const picked: Selected[] = [];
  const chosen = new Set<Specialty>();
  const pick = (specialty: Specialty, origin: string, priority: number): void => {
    if (chosen.has(specialty)) return;
    chosen.add(specialty);
    picked.push({ specialty, origin, priority });
  };
  for (const pattern of working) pick(pattern.specialists[0] as Specialty, pattern.name, primaryPriority[groupOfPattern(pattern)]);
  const { min, max } = budget[complexity];
  // Secondary specialists: groups not yet covered first (breadth), then earlier rounds, then precedence.
  const pool = working.flatMap((pattern) => pattern.specialists.slice(1).map((specialty, index) => ({ specialty, origin: pattern.name, round: index + 1 })));
  const covered = (specialty: Specialty): number => (picked.some((entry) => groupOf(entry.specialty) === groupOf(specialty)) ? 1 : 0);
  for (let remaining = pool.filter((entry) => !chosen.has(entry.specialty)); picked.length < max && remaining.length > 0;) {
    const best = remaining.reduce((a, b) =>
      covered(b.specialty) < covered(a.specialty) || (covered(b.specialty) === covered(a.specialty) && b.round < a.round) ? b : a,
    );
    pick(best.specialty, best.origin, covered(best.specialty) === 0 ? 5 : Math.max(3, 5 - best.round));
    remaining = remaining.filter((entry) => !chosen.has(entry.specialty));
  }
  if (working.length > 0) for (const specialty of paddingFor(working, complexity)) if (picked.length < min) pick(specialty, 'supporting', 2);
  for (const pattern of qaPatterns) pick(pattern.specialists[0] as Specialty, pattern.name, 5);
  for (const specialty of mandatoryQa[complexity]) pick(specialty, 'quality_assurance', specialty === 'compliance_reviewer' ? 6 : 5);
  pick('final_delivery_approver', 'final_delivery', 10);
  return picked;
}
