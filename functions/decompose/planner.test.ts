import { describe, expect, it } from 'vitest';
import { groupOf, qualityGateThreshold, type Complexity, type Specialty } from '../../shared/domain/vocabulary.js';
import type { Plan, PlannedSubtask } from '../../shared/domain/workflow.js';
import { ancestorsOf, expectValidDag as expectValidPlan, longestPathMinutes } from './plan-checks.test-util.js';
import { assessRisk, classifyComplexity, deterministicPlanner, hourlyRate, planTask } from './planner.js';
import { requestPatterns } from './patterns.js';

const plan = (description: string, maxSubtasks = 50): Plan => planTask({ workflowId: 'wf', description, maxSubtasks });
const specialties = (p: Plan): Specialty[] => p.subtasks.map((s) => s.specialty);
const find = (p: Plan, specialty: Specialty): PlannedSubtask => p.subtasks.find((s) => s.specialty === specialty)!;

/** True when `to` is reachable from `from` by following dependents (from must finish before to). */
const precedes = (p: Plan, from: string, to: string): boolean => ancestorsOf(p).get(to)!.has(from);

/** Plans round hours and cost to cents. */
const expectNear = (actual: number, expected: number): void => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(0.005 + 1e-9);

function expectValidDag(p: Plan): void {
  expectValidPlan(p);
  p.subtasks.forEach((s, index) => expect(s.id).toBe(`wf.s${index + 1}`));
  const cost = p.subtasks.reduce((sum, s) => sum + (s.estimatedMinutes / 60) * hourlyRate[groupOf(s.specialty)], 0);
  expectNear(p.estimatedCost, cost);
  for (const gate of p.qualityGates) expect(gate.threshold).toBe(qualityGateThreshold[gate.name]);
  expect(p.confidence).toBeGreaterThanOrEqual(0);
  expect(p.confidence).toBeLessThanOrEqual(1);
}

const table: readonly string[] = [
  'Research AI market trends and create presentation',
  'Research competitor pricing and create report',
  'Quick summary of this article',
  'Write a blog post about remote work',
  'Perform a security audit of the system architecture',
  'Review our codebase for performance bottlenecks and latency issues',
  'Set up a kubernetes deployment pipeline with docker and terraform',
  'Investigate the ransomware intrusion and preserve forensic evidence for the case',
  'Reverse engineer the malware binary and analyze network traffic packets',
  'Develop an enterprise-wide strategic plan for executive leadership',
  'Comprehensive detailed comparison of multiple cloud providers with charts',
  'Monitor social media sentiment about our brand on twitter and reddit',
  'Create a complete professional infographic and video on financial risk for the board',
  'Analyze sales data and forecast revenue for next quarter',
  'Hello',
  '',
];

describe('classifyComplexity', () => {
  it('rates "research AI market trends and create presentation" MODERATE or COMPLEX', () => {
    expect(['MODERATE', 'COMPLEX']).toContain(classifyComplexity('Research AI market trends and create presentation').complexity);
  });

  it('matches indicator words on word boundaries, case-insensitively', () => {
    expect(classifyComplexity('SINGLE quick fix').scores.SIMPLE).toBe(2);
    expect(classifyComplexity('someone singled out a showcase').scores).toMatchObject({ SIMPLE: 0, INVESTIGATION: 0 });
    expect(classifyComplexity('An Enterprise EXECUTIVE memo').scores.ENTERPRISE).toBeGreaterThan(0);
  });

  it.each<[string, Complexity]>([
    ['Develop an enterprise strategic roadmap for the executive team', 'ENTERPRISE'],
    ['Investigate the incident and collect forensic evidence', 'INVESTIGATION'],
    ['Comprehensive detailed review across multiple regions', 'COMPLEX'],
    ['Compare two laptops', 'MODERATE'],
    ['A simple quick answer', 'SIMPLE'],
  ])('%s → %s', (description, expected) => {
    expect(classifyComplexity(description).complexity).toBe(expected);
  });

  it('without indicators: SIMPLE for a short one-deliverable request, MODERATE otherwise', () => {
    expect(classifyComplexity('Tell me about penguins')).toEqual(expect.objectContaining({ complexity: 'SIMPLE', confidence: 0.5 }));
    expect(classifyComplexity('Tell me about penguins '.repeat(20)).complexity).toBe('MODERATE');
    expect(classifyComplexity('A quick blog article and a slide deck').complexity).toBe('MODERATE');
  });

  it('keeps confidence in [0, 1] and higher for clearer requests', () => {
    const clear = classifyComplexity('enterprise executive strategic professional complete plan');
    const vague = classifyComplexity('compare and investigate');
    expect(clear.confidence).toBeLessThanOrEqual(1);
    expect(vague.confidence).toBeGreaterThanOrEqual(0);
    expect(clear.confidence).toBeGreaterThan(vague.confidence);
  });
});

describe('planTask', () => {
  it('orders research → analysis → creative → qa for a market presentation', () => {
    const p = plan('Research AI market trends and create presentation');
    expect(['MODERATE', 'COMPLEX']).toContain(p.complexity);
    const of = (group: string): string[] => p.subtasks.filter((s) => groupOf(s.specialty) === group).map((s) => s.id);
    const chain = ['research', 'analysis', 'creative', 'qa'].map(of);
    chain.forEach((ids) => expect(ids.length).toBeGreaterThan(0));
    for (let i = 0; i + 1 < chain.length; i += 1) {
      expect(chain[i]!.some((from) => chain[i + 1]!.some((to) => precedes(p, from, to)))).toBe(true);
    }
    expect(p.patterns).toEqual(expect.arrayContaining(['market_research', 'presentation_creation']));
    expect(specialties(p).at(-1)).toBe('final_delivery_approver');
  });

  it('plans research and writing for competitor pricing and a report', () => {
    const p = plan('Research competitor pricing and create report');
    expect(specialties(p)).toEqual(expect.arrayContaining(['competitive_intelligence', 'content_writer_editor']));
    expect(p.patterns).toEqual(expect.arrayContaining(['competitive_analysis', 'report_writing']));
  });

  it.each<[string, Specialty[]]>([
    ['Perform a security audit of the system architecture', ['system_architect', 'security_analyst']],
    ['Review our codebase for performance bottlenecks and latency issues', ['code_reviewer_optimizer', 'performance_engineer']],
    ['Set up a kubernetes deployment pipeline', ['devops_specialist']],
    ['Research market trends, write a report, and review the software architecture and code', ['system_architect', 'code_reviewer_optimizer']],
  ])('never drops technical work: %s', (description, expected) => {
    const p = plan(description);
    expect(specialties(p)).toEqual(expect.arrayContaining(expected));
    // Assessed side by side in the analysis phase, or built after the design in production.
    expect(p.subtasks.filter((s) => groupOf(s.specialty) === 'technical').every((s) => s.phase === 'analysis' || s.phase === 'production')).toBe(true);
  });

  it('builds after designing: the CRM integration gets technical specialists, compliance review and approval (issue 14)', () => {
    const p = plan('Build enterprise CRM integration with compliance review');
    expect(p.complexity).toBe('ENTERPRISE');
    const architect = find(p, 'system_architect');
    for (const builder of ['code_reviewer_optimizer', 'security_analyst', 'devops_specialist'] as const) {
      expect(find(p, builder).phase).toBe('production');
      expect(find(p, builder).dependsOn).toContain(architect.id);
    }
    for (const built of ['code_reviewer_optimizer', 'security_analyst', 'devops_specialist'] as const)
      expect(precedes(p, find(p, built).id, find(p, 'compliance_reviewer').id)).toBe(true);
    expect(p.qualityGates).toContainEqual({ name: 'compliance_review', phase: 'qa', threshold: 0.95 });
    expect(p.approvalRequired).toBe(true);
    expect(architect.title).toBe('Design the integration architecture and data mapping: enterprise CRM integration');
  });

  it('gives the production-database incident security specialists and requires approval (issue 14)', () => {
    const p = plan('Investigate security incident in production database');
    expect(p.complexity).toBe('INVESTIGATION');
    expect(specialties(p)).toEqual(expect.arrayContaining(['security_analyst', 'system_architect', 'digital_forensics_expert', 'compliance_reviewer']));
    expect(p.approvalRequired).toBe(true);
    const forensics = find(p, 'digital_forensics_expert');
    expect(forensics.phase).toBe('research');
    expect(find(p, 'security_analyst').dependsOn).toEqual([forensics.id]);
    expect(find(p, 'case_investigation_manager').dependsOn).toEqual([forensics.id]);
    // The evidence report compiles every finding, so it waits for all of them.
    expect([...find(p, 'evidence_compilation_expert').dependsOn].sort()).toEqual(
      ['security_analyst', 'case_investigation_manager', 'system_architect'].map((sp) => find(p, sp as Specialty).id).sort(),
    );
  });

  it('runs independent research in parallel and lets each analysis use only its own branch', () => {
    const p = plan('Comprehensive detailed market research and social media sentiment study with a report');
    const research = p.subtasks.filter((s) => s.phase === 'research');
    expect(research.length).toBeGreaterThanOrEqual(2);
    for (const s of research) expect(s.dependsOn).toEqual([]);
    expect(find(p, 'pattern_recognition_expert').dependsOn).toEqual([find(p, 'social_media_monitor').id]);
    expect(find(p, 'data_analyst').dependsOn).not.toContain(find(p, 'social_media_monitor').id);
    // The report presents both analyses; QA checks the report, not each branch again.
    expect([...find(p, 'content_writer_editor').dependsOn].sort()).toEqual([find(p, 'data_analyst').id, find(p, 'pattern_recognition_expert').id].sort());
    expect(find(p, 'output_quality_controller').dependsOn).toEqual([find(p, 'content_writer_editor').id]);
  });

  it('lets work that uses nothing start at once, and reviews in parallel when only review is asked', () => {
    const review = plan('Review the system architecture, code quality and performance of our platform');
    const technical = review.subtasks.filter((s) => groupOf(s.specialty) === 'technical');
    expect(technical.length).toBe(3);
    for (const s of technical) expect(s.dependsOn).toEqual([]);
    const letter = plan('Proofread and fact check the quarterly investor letter');
    expect(specialties(letter)).toEqual(['fact_checker_validator', 'error_detection_specialist', 'final_delivery_approver']);
    expect(letter.subtasks[2]!.dependsOn).toEqual(['wf.s1', 'wf.s2']);
  });

  it('does not treat every "investigate" as forensics', () => {
    const p = plan('Investigate why our API latency doubled after the last deploy');
    expect(p.complexity).toBe('COMPLEX');
    expect(specialties(p)).toEqual(expect.arrayContaining(['performance_engineer', 'code_reviewer_optimizer']));
    expect(p.subtasks.some((s) => groupOf(s.specialty) === 'investigation')).toBe(false);
  });

  it('gives investigations investigation specialists, compliance review and approval', () => {
    const p = plan('Investigate the ransomware intrusion and preserve forensic evidence for the case');
    expect(p.complexity).toBe('INVESTIGATION');
    expect(specialties(p)).toEqual(expect.arrayContaining(['digital_forensics_expert', 'evidence_compilation_expert', 'compliance_reviewer']));
    expect(p.qualityGates.map((g) => g.name)).toContain('compliance_review');
    expect(p.approvalRequired).toBe(true);
    const malware = plan('Reverse engineer the malware binary and analyze network traffic packets');
    expect(specialties(malware)).toEqual(expect.arrayContaining(['reverse_engineering_specialist', 'network_security_analyzer']));
  });

  it('adds compliance review to ENTERPRISE plans, and 6+ working specialists', () => {
    const p = plan('Develop an enterprise-wide strategic plan for executive leadership');
    expect(p.complexity).toBe('ENTERPRISE');
    expect(specialties(p)).toContain('compliance_reviewer');
    expect(p.qualityGates).toContainEqual({ name: 'compliance_review', phase: 'qa', threshold: 0.95 });
    expect(p.subtasks.filter((s) => s.phase !== 'qa' && s.phase !== 'delivery').length).toBeGreaterThanOrEqual(6);
  });

  it('adds fact checking and output quality control to COMPLEX plans', () => {
    const p = plan('Comprehensive detailed comparison of multiple cloud providers with charts');
    expect(p.complexity).toBe('COMPLEX');
    expect(specialties(p)).toEqual(expect.arrayContaining(['fact_checker_validator', 'output_quality_controller']));
    expect(specialties(p)).not.toContain('compliance_reviewer');
    const working = p.subtasks.filter((s) => s.phase !== 'qa' && s.phase !== 'delivery').length;
    expect(working).toBeGreaterThanOrEqual(4);
    expect(working).toBeLessThanOrEqual(6);
  });

  it('plans a SIMPLE request as one subtask well under half an hour (spec defect 10)', () => {
    const p = plan('Quick summary of this article');
    expect(p.complexity).toBe('SIMPLE');
    expect(p.subtasks).toHaveLength(1);
    expect(p.estimatedHours).toBeLessThan(0.5);
    expect(p.approvalRequired).toBe(false);
    expect(p.risk).toBe('low');
    expect(p.qualityGates.map((g) => g.name)).toEqual(['output_quality']);
  });

  it.each(table.map((description) => [description]))('plans a valid DAG for %j', (description) => {
    const p = plan(description);
    expectValidDag(p);
    expect(p.subtasks.length).toBeGreaterThan(0);
    expect(p.qualityGates.map((g) => g.name)).toContain('output_quality');
    expect(p.qualityGates.some((g) => g.name === 'research_completeness')).toBe(p.phases.some((e) => e.phase === 'research'));
    expect(p.qualityGates.some((g) => g.name === 'compliance_review')).toBe(['ENTERPRISE', 'INVESTIGATION'].includes(p.complexity));
  });

  it('estimates hours by the critical path, never the sum', () => {
    for (const description of table) {
      const p = plan(description);
      expectNear(p.estimatedHours, longestPathMinutes(p.subtasks) / 60);
      const sum = p.subtasks.reduce((total, s) => total + s.estimatedMinutes, 0) / 60;
      const parallel = p.phases.some((entry) => entry.subtaskIds.length > 1);
      if (parallel) expect(p.estimatedHours).toBeLessThan(sum);
    }
    const moderate = plan('Research AI market trends and create presentation');
    expect(moderate.estimatedHours).toBeGreaterThanOrEqual(0.5);
    expect(moderate.estimatedHours).toBeLessThanOrEqual(2);
  });

  it.each([1, 2, 3, 5, 1000, Number.POSITIVE_INFINITY])('honours maxSubtasks = %d', (maxSubtasks) => {
    for (const description of table) {
      const p = plan(description, maxSubtasks);
      expectValidDag(p);
      expect(p.subtasks.length).toBeLessThanOrEqual(maxSubtasks);
      expect(p.subtasks.length).toBeGreaterThanOrEqual(1);
      const full = plan(description);
      if (maxSubtasks >= 2 && full.subtasks.at(-1)?.specialty === 'final_delivery_approver') expect(specialties(p).at(-1)).toBe('final_delivery_approver');
      // With room for one subtask only, the most important piece of work stays, not an approval of nothing.
      if (maxSubtasks === 1) expect(p.subtasks[0]!.priority).toBe(Math.max(...full.subtasks.filter((s) => s.phase !== 'delivery').map((s) => s.priority)));
      if (maxSubtasks >= full.subtasks.length) expect(p).toEqual(full);
    }
    if (maxSubtasks === 1) expect(plan('Research AI market trends and create presentation', 1).subtasks).toHaveLength(1);
  });

  it('trims the lowest-priority subtasks first and keeps the graph connected', () => {
    const full = plan('Investigate the ransomware intrusion and preserve forensic evidence for the case');
    const trimmed = plan('Investigate the ransomware intrusion and preserve forensic evidence for the case', 3);
    const kept = trimmed.subtasks.map((s) => s.priority);
    const droppedMax = Math.max(...full.subtasks.map((s) => s.priority).filter((_, i) => !specialties(trimmed).includes(specialties(full)[i]!)));
    expect(Math.min(...kept)).toBeGreaterThanOrEqual(droppedMax);
    expect(specialties(trimmed)).toEqual(['digital_forensics_expert', 'compliance_reviewer', 'final_delivery_approver']);
    expect(trimmed.subtasks[2]!.dependsOn).toEqual(['wf.s2']);
    expect(trimmed.subtasks[1]!.dependsOn).toEqual(['wf.s1']);
  });

  it('rejects maxSubtasks below 1', async () => {
    expect(() => plan('Write a blog post', 0)).toThrow(/maxSubtasks/);
    await expect(deterministicPlanner.plan({ workflowId: 'wf', description: 'x', maxSubtasks: Number.NaN })).rejects.toThrow(/maxSubtasks/);
  });

  it('is deterministic, and the port adapter returns the same plan', async () => {
    for (const description of table) {
      expect(plan(description)).toEqual(plan(description));
      await expect(deterministicPlanner.plan({ workflowId: 'wf', description, maxSubtasks: 50 })).resolves.toEqual(plan(description));
    }
  });

  it('plans a 10,000-character request quickly with bounded subtask text', () => {
    const long = 'Research enterprise market trends, investigate the evidence and write a detailed report. '.repeat(115).slice(0, 10_000);
    const started = performance.now();
    const p = plan(long);
    expect(performance.now() - started).toBeLessThan(250);
    expectValidDag(p);
    expect(p.complexity).not.toBe('SIMPLE');
    for (const s of p.subtasks) expect(s.description.length).toBeLessThan(400);
  });
});

describe('assessRisk', () => {
  it.each<[number, Complexity, number, number, string]>([
    [0.4, 'SIMPLE', 1, 1, 'low'],
    [3, 'MODERATE', 4, 5, 'low'],
    [3, 'COMPLEX', 4, 5, 'medium'],
    [9, 'COMPLEX', 6, 20, 'high'],
    [13, 'ENTERPRISE', 10, 40, 'critical'],
  ])('hours %d, %s, %d specialists, $%d → %s', (hours, complexity, count, cost, expected) => {
    expect(assessRisk(hours, complexity, count, cost)).toBe(expected);
  });
});

describe('property: generated requests', () => {
  const vocabulary = [
    'research',
    'market',
    'trends',
    'competitor',
    'pricing',
    'create',
    'presentation',
    'report',
    'write',
    'blog',
    'analyze',
    'data',
    'forecast',
    'risk',
    'code',
    'architecture',
    'latency',
    'kubernetes',
    'vulnerability',
    'investigate',
    'forensic',
    'evidence',
    'case',
    'security',
    'malware',
    'packets',
    'social',
    'sentiment',
    'video',
    'infographic',
    'compliance',
    'verify',
    'proofread',
    'simple',
    'quick',
    'one',
    'comprehensive',
    'detailed',
    'multiple',
    'enterprise',
    'executive',
    'strategic',
    'complete',
    'professional',
    'the',
    'and',
    'of',
    'for',
    'our',
    'team',
  ];
  /** Park–Miller LCG: deterministic, no Math.random. */
  function* lcg(seed: number): Generator<number> {
    let state = seed;
    for (;;) yield (state = (state * 48_271) % 2_147_483_647);
  }

  it('every generated plan keeps every invariant', () => {
    const random = lcg(42);
    const next = (n: number): number => random.next().value % n;
    for (let round = 0; round < 300; round += 1) {
      const words = Array.from({ length: 1 + next(30) }, () => vocabulary[next(vocabulary.length)]);
      const description = words.join(next(2) === 0 ? ' ' : ', ');
      const maxSubtasks = 1 + next(12);
      const p = planTask({ workflowId: 'wf', description, maxSubtasks });
      expectValidDag(p);
      expect(p.subtasks.length).toBeLessThanOrEqual(maxSubtasks);
      if (p.complexity === 'SIMPLE') expect(p.estimatedHours).toBeLessThan(0.5);
      const full = planTask({ workflowId: 'wf', description, maxSubtasks: 1_000 });
      if (full.complexity === 'SIMPLE') continue;
      // spec defect 2: every matched pattern's primary specialist (technical and investigation included) is planned
      for (const name of full.patterns) {
        expect(specialties(full)).toContain(requestPatterns.find((pattern) => pattern.name === name)?.specialists[0]);
      }
      if (full.complexity === 'INVESTIGATION') expect(full.subtasks.some((s) => groupOf(s.specialty) === 'investigation')).toBe(true);
    }
  });
});
