import { groupOf, type Complexity, type Specialty, type SpecialtyGroup } from '../../shared/domain/vocabulary.js';

/**
 * Request patterns: which kinds of work a description asks for, and the specialists each needs.
 *
 * A trigger is a space-separated list of words that must ALL occur somewhere in the request
 * (word boundaries, case-insensitive); a trailing `*` makes a word a prefix (`investigat*`).
 * A pattern matches when any one of its triggers does. A `fallback` pattern only counts when no
 * other pattern of the same group matched (so "research" alone still finds a researcher, but
 * "market research" is not counted twice).
 */
export interface RequestPattern {
  readonly name: string;
  readonly label: string;
  readonly triggers: readonly string[];
  /** In order of preference; the first is the pattern's primary specialist. */
  readonly specialists: readonly Specialty[];
  readonly fallback?: boolean;
}

export const requestPatterns: readonly RequestPattern[] = [
  // research
  { name: 'market_research', label: 'market research', triggers: ['market*', 'trend*', 'industry', 'industries', 'consumer*'], specialists: ['news_trends_analyzer', 'web_intelligence_gatherer', 'data_analyst'] },
  { name: 'competitive_analysis', label: 'competitive analysis', triggers: ['competitor*', 'competitive', 'competition', 'rival*'], specialists: ['competitive_intelligence', 'data_analyst'] },
  { name: 'academic_research', label: 'academic research', triggers: ['academic', 'literature', 'scholarly', 'scientific', 'papers', 'peer reviewed'], specialists: ['academic_researcher'] },
  { name: 'news_monitoring', label: 'news monitoring', triggers: ['news', 'headlines', 'press coverage'], specialists: ['news_trends_analyzer'] },
  { name: 'social_intelligence', label: 'social intelligence', triggers: ['social', 'sentiment', 'twitter', 'reddit', 'instagram', 'tiktok', 'influencer*', 'hashtag*'], specialists: ['social_media_monitor', 'pattern_recognition_expert'] },
  { name: 'general_research', label: 'research', triggers: ['research*', 'gather', 'search*', 'sources', 'look up'], specialists: ['web_intelligence_gatherer'], fallback: true },
  // analysis
  { name: 'data_analysis', label: 'data analysis', triggers: ['data', 'dataset*', 'statistic*', 'forecast*', 'regression', 'kpi*', 'metrics'], specialists: ['data_analyst', 'statistical_modeler'] },
  { name: 'financial_analysis', label: 'financial analysis', triggers: ['financial', 'finance*', 'revenue*', 'profit*', 'earnings', 'pricing', 'valuation', 'budget*', 'roi'], specialists: ['financial_performance_analyst'] },
  { name: 'risk_assessment', label: 'risk assessment', triggers: ['risk*'], specialists: ['risk_assessment_specialist'] },
  { name: 'pattern_analysis', label: 'pattern analysis', triggers: ['pattern*', 'anomal*', 'correlation*'], specialists: ['pattern_recognition_expert'] },
  { name: 'general_analysis', label: 'analysis', triggers: ['analy*', 'assess*', 'evaluat*', 'compar*'], specialists: ['data_analyst'], fallback: true },
  // technical (spec defect 2: never dropped)
  { name: 'system_analysis', label: 'system analysis', triggers: ['architecture*', 'architect*', 'infrastructure', 'scalab*', 'microservice*', 'system design', 'system analy*', 'systems'], specialists: ['system_architect'] },
  { name: 'code_review', label: 'code review', triggers: ['code', 'codebase*', 'refactor*', 'pull request*', 'software', 'api'], specialists: ['code_reviewer_optimizer'] },
  { name: 'performance_engineering', label: 'performance engineering', triggers: ['latency', 'throughput', 'bottleneck*', 'profiling', 'load test*', 'performance system*', 'performance app*', 'performance code', 'performance database*', 'performance engineer*', 'optimi* code', 'optimi* query*'], specialists: ['performance_engineer'] },
  { name: 'devops', label: 'devops', triggers: ['devops', 'deploy*', 'kubernetes', 'docker', 'terraform', 'ci cd', 'cicd', 'pipeline* build'], specialists: ['devops_specialist'] },
  { name: 'security_audit', label: 'security audit', triggers: ['security audit*', 'security review*', 'vulnerab*', 'pentest*', 'penetration', 'owasp', 'hardening', 'threat model*'], specialists: ['security_analyst'] },
  // investigation (spec defect 2: never dropped)
  { name: 'digital_investigation', label: 'digital investigation', triggers: ['investigat*', 'forensic*', 'evidence', 'breach*', 'intrusion*', 'incident*', 'compromise*', 'ransomware', 'phishing', 'fraud*'], specialists: ['digital_forensics_expert', 'case_investigation_manager', 'evidence_compilation_expert'] },
  { name: 'network_analysis', label: 'network analysis', triggers: ['network security', 'network traffic', 'network intrusion*', 'packet*', 'firewall*'], specialists: ['network_security_analyzer'] },
  { name: 'reverse_engineering', label: 'reverse engineering', triggers: ['reverse engineer*', 'decompil*', 'disassembl*', 'binary', 'binaries', 'malware'], specialists: ['reverse_engineering_specialist'] },
  // creative
  { name: 'content_creation', label: 'content creation', triggers: ['content', 'blog*', 'article*', 'copy', 'copywrit*', 'newsletter*'], specialists: ['content_writer_editor'] },
  { name: 'report_writing', label: 'report writing', triggers: ['report*', 'whitepaper*', 'memo*', 'summar*', 'briefing*', 'writeup', 'write up', 'documentation'], specialists: ['content_writer_editor'] },
  { name: 'presentation_creation', label: 'presentation creation', triggers: ['presentation*', 'slide*', 'deck*', 'pitch*', 'keynote', 'powerpoint'], specialists: ['presentation_formatter', 'graphics_diagram_designer'] },
  { name: 'visual_design', label: 'visual design', triggers: ['diagram*', 'graphic*', 'chart*', 'visuali*', 'illustrat*'], specialists: ['graphics_diagram_designer'] },
  { name: 'infographic_creation', label: 'infographic creation', triggers: ['infographic*'], specialists: ['infographic_creator'] },
  { name: 'media_production', label: 'media production', triggers: ['video*', 'podcast*', 'animation*', 'film*', 'youtube', 'trailer*'], specialists: ['media_video_producer'] },
  { name: 'general_writing', label: 'writing', triggers: ['write', 'writing', 'draft*', 'create', 'compose'], specialists: ['content_writer_editor'], fallback: true },
  // qa
  { name: 'compliance_review', label: 'compliance review', triggers: ['complian*', 'regulat*', 'gdpr', 'hipaa', 'sox', 'legal'], specialists: ['compliance_reviewer'] },
  { name: 'fact_checking', label: 'fact checking', triggers: ['fact check*', 'verify', 'verification', 'validate', 'accuracy'], specialists: ['fact_checker_validator'] },
  { name: 'proofreading', label: 'proofreading', triggers: ['proofread*', 'typo*', 'grammar'], specialists: ['error_detection_specialist'] },
];

interface Trigger {
  readonly exact: readonly string[];
  readonly prefixes: readonly string[];
}

const compiled: readonly { pattern: RequestPattern; triggers: readonly Trigger[]; group: SpecialtyGroup }[] = requestPatterns.map(
  (pattern) => ({
    pattern,
    group: groupOf(pattern.specialists[0] as Specialty),
    triggers: pattern.triggers.map((trigger) => {
      const words = trigger.split(' ');
      return {
        exact: words.filter((word) => !word.endsWith('*')),
        prefixes: words.filter((word) => word.endsWith('*')).map((word) => word.slice(0, -1)),
      };
    }),
  }),
);

export interface RequestWords {
  readonly words: ReadonlySet<string>;
  readonly wordCount: number;
}

/** Lower-cased words of the request, split on anything that is not a letter or digit; linear in its length. */
export function tokenize(description: string): RequestWords {
  const list = description.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return { words: new Set(list), wordCount: list.length };
}

function hasPrefix(words: ReadonlySet<string>, prefix: string): boolean {
  for (const word of words) if (word.startsWith(prefix)) return true;
  return false;
}

function triggered(words: ReadonlySet<string>, trigger: Trigger): boolean {
  return trigger.exact.every((word) => words.has(word)) && trigger.prefixes.every((prefix) => hasPrefix(words, prefix));
}

/** The patterns a request asks for, in catalogue order (fallbacks only where their group is otherwise empty). */
export function matchPatterns(words: ReadonlySet<string>): RequestPattern[] {
  const hits = compiled.filter((entry) => entry.triggers.some((trigger) => triggered(words, trigger)));
  const specificGroups = new Set(hits.filter((entry) => !entry.pattern.fallback).map((entry) => entry.group));
  return hits.filter((entry) => !entry.pattern.fallback || !specificGroups.has(entry.group)).map((entry) => entry.pattern);
}

/** Working groups (everything but qa) that the matched patterns' specialists span. */
export function workingGroups(patterns: readonly RequestPattern[]): Set<SpecialtyGroup> {
  const groups = new Set<SpecialtyGroup>();
  for (const pattern of patterns) for (const specialty of pattern.specialists) groups.add(groupOf(specialty));
  groups.delete('qa');
  return groups;
}

export interface Selected {
  readonly specialty: Specialty;
  /** The pattern (or reason) that brought this specialist in. */
  readonly label: string;
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
const padding: Record<'default' | 'investigation', readonly Specialty[]> = {
  default: ['web_intelligence_gatherer', 'data_analyst', 'content_writer_editor', 'academic_researcher', 'risk_assessment_specialist', 'graphics_diagram_designer', 'statistical_modeler', 'infographic_creator'],
  investigation: ['case_investigation_manager', 'evidence_compilation_expert', 'digital_forensics_expert', 'network_security_analyzer', 'web_intelligence_gatherer', 'risk_assessment_specialist'],
};
const mandatoryQa: Record<Complexity, readonly Specialty[]> = {
  SIMPLE: [],
  MODERATE: [],
  COMPLEX: ['fact_checker_validator', 'output_quality_controller'],
  ENTERPRISE: ['fact_checker_validator', 'output_quality_controller', 'compliance_reviewer'],
  INVESTIGATION: ['fact_checker_validator', 'output_quality_controller', 'compliance_reviewer'],
};
const generalRequest: RequestPattern = { name: 'general_request', label: 'general request', triggers: [], specialists: ['content_writer_editor', 'web_intelligence_gatherer'] };
const qaLabels: Partial<Record<Specialty, string>> = {
  fact_checker_validator: 'fact checking',
  output_quality_controller: 'output quality control',
  compliance_reviewer: 'compliance review',
};
const groupOfPattern = (pattern: RequestPattern): SpecialtyGroup => groupOf(pattern.specialists[0] as Specialty);

/** Distinct primary specialists of the matched patterns: the number of separate deliverables asked for. */
export function deliverableCount(patterns: readonly RequestPattern[]): number {
  return new Set(patterns.map((pattern) => pattern.specialists[0])).size;
}

/**
 * The specialists a plan needs. Every matched pattern's primary specialist is picked (spec defect 2:
 * technical and investigation work is never dropped), even past the level's budget; secondary
 * specialists follow up to the budget, uncovered groups first; a plan short of the minimum is padded with
 * supporting specialists. SIMPLE keeps one: the primary of the highest-precedence group.
 */
export function selectSpecialists(patterns: readonly RequestPattern[], complexity: Complexity): Selected[] {
  let working = patterns.filter((pattern) => groupOfPattern(pattern) !== 'qa');
  const qaPatterns = patterns.filter((pattern) => groupOfPattern(pattern) === 'qa');
  if (complexity === 'INVESTIGATION' && !working.some((pattern) => groupOfPattern(pattern) === 'investigation')) {
    working = [...working, ...requestPatterns.filter((pattern) => pattern.name === 'digital_investigation')];
  }
  if (working.length === 0 && (qaPatterns.length === 0 || complexity !== 'SIMPLE')) working = [generalRequest];
  working = [...working].sort((a, b) => groupPrecedence.indexOf(groupOfPattern(a)) - groupPrecedence.indexOf(groupOfPattern(b)));

  const picked: Selected[] = [];
  const chosen = new Set<Specialty>();
  const pick = (specialty: Specialty, label: string, priority: number): void => {
    if (chosen.has(specialty)) return;
    chosen.add(specialty);
    picked.push({ specialty, label, priority });
  };
  if (complexity === 'SIMPLE') {
    const only = working[0] ?? qaPatterns[0];
    return only ? [{ specialty: only.specialists[0] as Specialty, label: only.label, priority: 10 }] : [];
  }
  for (const pattern of working) pick(pattern.specialists[0] as Specialty, pattern.label, primaryPriority[groupOfPattern(pattern)]);
  const { min, max } = budget[complexity];
  // Secondary specialists: groups not yet covered first (breadth), then earlier rounds, then precedence.
  const pool = working.flatMap((pattern) => pattern.specialists.slice(1).map((specialty, index) => ({ specialty, label: pattern.label, round: index + 1 })));
  const covered = (specialty: Specialty): number => (picked.some((entry) => groupOf(entry.specialty) === groupOf(specialty)) ? 1 : 0);
  for (let remaining = pool.filter((entry) => !chosen.has(entry.specialty)); picked.length < max && remaining.length > 0; ) {
    const best = remaining.reduce((a, b) => (covered(b.specialty) < covered(a.specialty) || (covered(b.specialty) === covered(a.specialty) && b.round < a.round) ? b : a));
    pick(best.specialty, best.label, covered(best.specialty) === 0 ? 5 : Math.max(3, 5 - best.round));
    remaining = remaining.filter((entry) => !chosen.has(entry.specialty));
  }
  for (const specialty of padding[complexity === 'INVESTIGATION' ? 'investigation' : 'default']) {
    if (picked.length < min) pick(specialty, 'supporting work', 2);
  }
  for (const pattern of qaPatterns) pick(pattern.specialists[0] as Specialty, pattern.label, 5);
  for (const specialty of mandatoryQa[complexity]) pick(specialty, qaLabels[specialty] ?? 'quality assurance', specialty === 'compliance_reviewer' ? 6 : 5);
  pick('final_delivery_approver', 'final delivery', 10);
  return picked;
}
