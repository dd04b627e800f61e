import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { checkPlanGraph, findCycle, parsePlanAnswer, topologicalOrder, type PlanGraph } from './plan-validation.js';
import { phaseSchema } from './vocabulary.js';

type Node = PlanGraph['subtasks'][number];
const node = (id: string, phase: Node['phase'], dependsOn: string[] = [], specialty = 'data_analyst'): Node => ({ id, phase, dependsOn, specialty });
const limits = { maxSubtasks: 5 };

describe('checkPlanGraph', () => {
  it('accepts a DAG whose edges go to earlier phases', () => {
    const plan = { subtasks: [node('a', 'research'), node('b', 'research'), node('c', 'analysis', ['a', 'b']), node('d', 'delivery', ['c'])] };
    expect(checkPlanGraph(plan, limits)).toEqual([]);
  });

  it('names every problem: empty, too many, duplicate ids, unknown specialties and dependencies', () => {
    expect(checkPlanGraph({ subtasks: [] }, limits)).toEqual(['the plan has no subtasks']);
    const six = ['a', 'b', 'c', 'd', 'e', 'f'].map((id) => node(id, 'research'));
    expect(checkPlanGraph({ subtasks: six }, limits)).toEqual(['too many subtasks: 6, the limit is 5']);
    const plan = { subtasks: [node('a', 'research'), node('a', 'research', [], 'wizard'), node('b', 'analysis', ['zz'])] };
    expect(checkPlanGraph(plan, limits)).toEqual([
      'duplicate subtask id "a"',
      'unknown specialty "wizard" in subtask "a"',
      'subtask "b" depends on unknown subtask "zz"',
    ]);
  });

  it('refuses a dependency inside one phase or on a later phase: complete would wait for it for ever', () => {
    const plan = { subtasks: [node('a', 'analysis'), node('b', 'analysis', ['a']), node('c', 'research', ['b'])] };
    expect(checkPlanGraph(plan, limits)).toEqual([
      'subtask "b" (analysis) depends on "a" (analysis): a dependency must be in an earlier phase',
      'subtask "c" (research) depends on "b" (analysis): a dependency must be in an earlier phase',
    ]);
  });

  it('reports a cycle along the direction work flows, including a self-dependency', () => {
    const cyclic = [node('s1', 'research', ['s3']), node('s2', 'analysis', ['s1']), node('s3', 'analysis', ['s2'])];
    expect(findCycle(cyclic)).toEqual(['s1', 's2', 's3', 's1']);
    expect(checkPlanGraph({ subtasks: cyclic }, limits)).toContain('dependency cycle: s1 → s2 → s3 → s1');
    expect(findCycle([node('x', 'qa', ['x'])])).toEqual(['x', 'x']);
    expect(findCycle([node('a', 'research'), node('b', 'qa', ['a'])])).toBeNull();
  });
});

describe('topologicalOrder', () => {
  it('puts dependencies first and otherwise keeps the given order', () => {
    const ordered = topologicalOrder([node('d', 'delivery', ['c']), node('a', 'research'), node('c', 'analysis', ['a', 'b']), node('b', 'research')]);
    expect(ordered.map((s) => s.id)).toEqual(['a', 'b', 'c', 'd']);
    expect(() => topologicalOrder([node('a', 'research', ['b']), node('b', 'research', ['a'])])).toThrow('acyclic');
  });
});

describe('parsePlanAnswer', () => {
  const schema = z.object({ subtasks: z.array(z.object({ id: z.string(), specialty: z.string(), phase: phaseSchema, dependsOn: z.array(z.string()) })) });
  const answer = (subtasks: unknown) => JSON.stringify({ subtasks });

  it('returns the parsed value of a valid answer, also inside a markdown fence', () => {
    const text = answer([{ id: 'a', specialty: 'data_analyst', phase: 'analysis', dependsOn: [] }]);
    expect(parsePlanAnswer(schema, text, limits)).toEqual({ ok: true, value: JSON.parse(text) });
    expect(parsePlanAnswer(schema, `\`\`\`json\n${text}\n\`\`\``, limits).ok).toBe(true);
  });

  it('says what is wrong, in order: not JSON, then the schema by path, then the graph', () => {
    const notJson = parsePlanAnswer(schema, 'Here is your plan: {', limits);
    expect(notJson).toMatchObject({ ok: false, errors: [expect.stringMatching(/^the answer is not valid JSON \(/)] });
    const wrongShape = parsePlanAnswer(schema, answer([{ id: 'a', specialty: 'data_analyst', phase: 'later', dependsOn: [] }]), limits);
    expect(wrongShape).toMatchObject({ ok: false, errors: [expect.stringMatching(/^subtasks\.0\.phase: /)] });
    const cyclic = parsePlanAnswer(schema, answer([{ id: 'a', specialty: 'data_analyst', phase: 'qa', dependsOn: ['a'] }]), limits);
    expect(cyclic).toMatchObject({ ok: false, errors: expect.arrayContaining(['dependency cycle: a → a']) });
  });
});
