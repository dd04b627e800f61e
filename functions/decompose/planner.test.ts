import { describe, expect, it } from 'vitest';
import { groupOf, qualityGateThreshold, type Complexity, type Specialty } from '../../shared/domain/vocabulary.js';
import { planSchema, type Plan, type PlannedSubtask } from '../../shared/domain/workflow.js';
import { assessRisk, classifyComplexity, deterministicPlanner, hourlyRate, planTask } from './planner.js';
import { requestPatterns } from './patterns.js';

const plan = (description: string, maxSubtasks = 50): Plan => planTask({ workflowId: 'wf', description, maxSubtasks });
const specialties = (p: Plan): Specialty[] => p.subtasks.map((s) => s.specialty);
const phaseRank = ['research', 'analysis', 'production', 'qa', 'delivery'];

/** Independent longest path: memoised DFS over dependsOn, no reliance on subtask order. */
function longestPathMinutes(subtasks: readonly PlannedSubtask[]): number {
  const byId = new Map(subtasks.map((s) => [s.id, s]));
  const memo = new Map<string, number>();
  const finish = (id: string): number => {
    const cached = memo.get(id);
    if (cached !== undefined) return cached;
    const s = byId.get(id)!;
    const value = s.estimatedMinutes + Math.max(0, ...s.dependsOn.map(finish));
    memo.set(id, value);
    return value;
  };
  return Math.max(0, ...subtasks.map((s) => finish(s.id)));
}

/** True when `to` is reachable from `from` by following dependents (from must finish before to). */
function precedes(p: Plan, from: string, to: string): boolean {
  const byId = new Map(p.subtasks.map((s) => [s.id, s]));
  const stack = [to];
  const seen = new Set<string>();
  while (stack.length > 0) {
    const id = stack.pop()!;
    for (const dep of byId.get(id)?.dependsOn ?? []) {
      if (dep === from) return true;
      if (seen.has(dep)) continue;
      seen.add(dep);
      stack.push(dep);
    }
  }
  return false;
}

/** Plans round hours and cost to cents. */
const expectNear = (actual: number, expected: number): void => expect(Math.abs(actual - expected)).toBeLessThanOrEqual(0.005 + 1e-9);

function expectValidDag(p: Plan): void {
  expect(() => planSchema.parse(p)).not.toThrow();
  const ids = p.subtasks.map((s) => s.id);
  expect(new Set(ids).size).toBe(ids.length);
  ids.forEach((id, index) => expect(id).toBe(`wf.s${index + 1}`));
  const state = new Map<string, 'visiting' | 'done'>();
  const byId = new Map(p.subtasks.map((s) => [s.id, s]));
  const visit = (id: string): void => {
    expect(state.get(id)).not.toBe('visiting'); // a back edge is a cycle
    if (state.get(id) === 'done') return;
    state.set(id, 'visiting');
    for (const dep of byId.get(id)!.dependsOn) visit(dep);
    state.set(id, 'done');
  };
  for (const s of p.subtasks) {
    expect(s.dependsOn).not.toContain(s.id);
    expect(new Set(s.dependsOn).size).toBe(s.dependsOn.length);
    for (const dep of s.dependsOn) {
      expect(byId.has(dep)).toBe(true);
      expect(ids.indexOf(dep)).toBeLessThan(ids.indexOf(s.id)); // ids are in topological order
    }
    visit(s.id);
  }
  // phases: in order, non-empty, covering every subtask exactly once
  expect(p.phases.map((entry) => phaseRank.indexOf(entry.phase))).toEqual([...p.phases.map((entry) => phaseRank.indexOf(entry.phase))].sort());
  expect(p.phases.every((entry) => entry.subtaskIds.length > 0)).toBe(true);
  expect(p.phases.flatMap((entry) => entry.subtaskIds).sort()).toEqual([...ids].sort());
  // layered: each phase depends on exactly the whole previous non-empty phase
  p.phases.forEach((entry, index) => {
    const previous = index === 0 ? [] : (p.phases[index - 1]?.subtaskIds ?? []);
    for (const id of entry.subtaskIds) expect([...byId.get(id)!.dependsOn].sort()).toEqual([...previous].sort());
  });
  expect(new Set(p.requiredSpecialists).size).toBe(p.requiredSpecialists.length);
  expect(new Set(p.requiredSpecialists)).toEqual(new Set(specialties(p)));
  expectNear(p.estimatedHours, longestPathMinutes(p.subtasks) / 60);
  const cost = p.subtasks.reduce((sum, s) => sum + (s.estimatedMinutes / 60) * hourlyRate[groupOf(s.specialty)], 0);
  expectNear(p.estimatedCost, cost);
  expect(p.approvalRequired).toBe(
    p.estimatedCost > 15 || p.estimatedHours > 12 || p.risk === 'high' || p.risk === 'critical' || p.complexity === 'INVESTIGATION',
  );
  for (const gate of p.qualityGates) {
    expect(gate.threshold).toBe(qualityGateThreshold[gate.name]);
    expect(p.phases.map((entry) => entry.phase)).toContain(gate.phase);
  }
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
    expect(p.subtasks.filter((s) => groupOf(s.specialty) === 'technical').every((s) => s.phase === 'production')).toBe(true);
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
      if (full.subtasks.at(-1)?.specialty === 'final_delivery_approver') expect(specialties(p).at(-1)).toBe('final_delivery_approver');
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
    'research', 'market', 'trends', 'competitor', 'pricing', 'create', 'presentation', 'report', 'write', 'blog',
    'analyze', 'data', 'forecast', 'risk', 'code', 'architecture', 'latency', 'kubernetes', 'vulnerability', 'investigate',
    'forensic', 'evidence', 'case', 'security', 'malware', 'packets', 'social', 'sentiment', 'video', 'infographic',
    'compliance', 'verify', 'proofread', 'simple', 'quick', 'one', 'comprehensive', 'detailed', 'multiple', 'enterprise',
    'executive', 'strategic', 'complete', 'professional', 'the', 'and', 'of', 'for', 'our', 'team',
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
