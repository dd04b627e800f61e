import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startOpenAiServer, type OpenAiServer } from '../../../test/unit/helpers/openai-server.js';
import { deterministicPlanner } from '../../../functions/index.js';
import { allSpecialties } from '../../domain/vocabulary.js';
import { planSchema } from '../../domain/workflow.js';
import { plannerWithFallback } from './planner-with-fallback.js';
import { openAiLanguageModel } from './language-model.openai.js';
import { llmPlanner } from './llm-planner.js';
import { llmSettingsSchema } from './llm-settings.js';
import { planDraftJsonSchema } from './plan-draft.js';

const recorded = (name: string) => readFileSync(new URL(`../../../test/fixtures/llm/${name}`, import.meta.url), 'utf8');
const good = recorded('good-plan.json');
const task = { workflowId: 'wf-1', description: 'Research AI market trends and create presentation', maxSubtasks: 10 };
// $3 / $15 per million tokens; the server reports 100 input and 50 output tokens per answer.
const perCall = { inputTokens: 100, outputTokens: 50, costUsd: 0.00105 };
const calls = (n: number) => ({ inputTokens: 100 * n, outputTokens: 50 * n, costUsd: expect.closeTo(0.00105 * n, 9) as number });

let server: OpenAiServer;
beforeAll(async () => (server = await startOpenAiServer()));
afterAll(() => server.stop());
let seen = 0;
beforeEach(() => (seen = server.requests().length));
const requests = () => server.requests().slice(seen);

const model = () =>
  openAiLanguageModel(
    llmSettingsSchema.parse({ LLM_BASE_URL: server.baseUrl, LLM_MODEL: 'planner-model', LLM_PRICE_INPUT_PER_MTOK: '3', LLM_PRICE_OUTPUT_PER_MTOK: '15' }),
  );
const planner = () => plannerWithFallback(llmPlanner(model()), deterministicPlanner);

describe('LLM planner on an OpenAI-compatible server (recorded answers)', () => {
  it('uses a valid plan: structured output from the zod schema, the 30 specialties and the limits in the prompt, usage counted', async () => {
    server.enqueue({ content: good });
    const plan = await planner().plan(task);

    expect(planSchema.parse(plan)).toEqual(plan);
    expect(plan.provenance).toEqual({ planner: 'llm', model: 'planner-model', repaired: false, usage: perCall });
    expect(plan.subtasks.map((s) => [s.id, s.specialty, s.dependsOn])).toEqual([
      ['wf-1.s1', 'web_intelligence_gatherer', []],
      ['wf-1.s2', 'news_trends_analyzer', []],
      ['wf-1.s3', 'data_analyst', ['wf-1.s1', 'wf-1.s2']],
      ['wf-1.s4', 'presentation_formatter', ['wf-1.s3']],
      ['wf-1.s5', 'output_quality_controller', ['wf-1.s4']],
      ['wf-1.s6', 'final_delivery_approver', ['wf-1.s5']],
    ]);
    expect(plan.subtasks[0]?.title).toBe('Collect recent AI market reports');
    // Derived: the critical path 30 + 40 + 45 + 20 + 10 minutes, the phases, the gates.
    expect(plan.estimatedHours).toBe(2.42);
    expect(plan.phases.map((p) => p.phase)).toEqual(['research', 'analysis', 'production', 'qa', 'delivery']);
    expect(plan.qualityGates.map((g) => g.name)).toEqual(['research_completeness', 'analysis_accuracy', 'output_quality']);
    expect(plan).toMatchObject({ complexity: 'MODERATE', risk: 'low', approvalRequired: false, confidence: 0.82 });

    const [sent] = requests();
    expect(sent?.model).toBe('planner-model');
    expect(sent?.response_format).toEqual({ type: 'json_schema', json_schema: { name: 'plan', schema: planDraftJsonSchema, strict: true } });
    const draft = sent?.response_format?.json_schema?.schema as { properties: { subtasks: { items: { properties: { specialty: { enum: string[] } } } } } };
    expect(draft.properties.subtasks.items.properties.specialty.enum).toEqual([...allSpecialties]);
    expect(JSON.stringify(draft)).not.toMatch(/minLength|\$schema/);
    const system = sent?.messages[0]?.content ?? '';
    for (const specialty of allSpecialties) expect(system).toContain(specialty);
    expect(system).toContain('at most 10 subtasks');
    expect(sent?.messages[1]).toEqual({ role: 'user', content: `Task: ${task.description}` });
  });

  it('repairs a malformed (non-JSON) answer once, with a follow-up listing what was wrong', async () => {
    server.enqueue({ content: recorded('malformed-plan.txt') }, { content: good });
    const plan = await planner().plan(task);
    expect(plan.provenance).toEqual({ planner: 'llm', model: 'planner-model', repaired: true, usage: calls(2) });
    expect(plan.subtasks).toHaveLength(6);
    const [, repair] = requests();
    expect(repair?.messages.map((m) => m.role)).toEqual(['system', 'user', 'assistant', 'user']);
    expect(repair?.messages[2]?.content).toBe(recorded('malformed-plan.txt'));
    expect(repair?.messages[3]?.content).toMatch(/That plan cannot be used:\n- the answer is not valid JSON/);
  });

  it('repairs an unknown specialty, naming it', async () => {
    server.enqueue({ content: recorded('unknown-specialty-plan.json') }, { content: good });
    const plan = await planner().plan(task);
    expect(plan.provenance?.repaired).toBe(true);
    expect(requests()[1]?.messages[3]?.content).toContain('subtasks.0.specialty: unknown specialty "market_research_guru"');
  });

  it('falls back to the deterministic planner after a cyclic plan twice, naming the cycle; both calls are paid for', async () => {
    server.enqueue({ content: recorded('cyclic-plan.json') }, { content: recorded('cyclic-plan.json') });
    const plan = await planner().plan(task);
    expect(requests()).toHaveLength(2);
    expect(plan.provenance).toMatchObject({ planner: 'deterministic', usage: calls(2) });
    expect(plan.provenance?.fallbackReason).toMatch(/^the plan is still invalid after one repair: .*dependency cycle: s1 → s2 → s3 → s1/);
    expect(plan).toMatchObject({ ...(await deterministicPlanner.plan(task)), provenance: plan.provenance });
  });

  it('falls back when the plan has more subtasks than ORCHESTRATION_MAX_SUBTASKS, and the fallback keeps the limit', async () => {
    server.enqueue({ content: good }, { content: good });
    const plan = await planner().plan({ ...task, maxSubtasks: 4 });
    expect(plan.provenance?.fallbackReason).toContain('too many subtasks: 6, the limit is 4');
    expect(requests()[0]?.messages[0]?.content).toContain('at most 4 subtasks');
    expect(plan.subtasks.length).toBeLessThanOrEqual(4);
  });

  it('falls back within its share of the time (80%) when the model is too slow', async () => {
    server.enqueue({ content: good, delayMs: 5_000 });
    const started = performance.now();
    const plan = await planner().plan({ ...task, timeoutMs: 1_000 });
    const took = performance.now() - started;
    expect(plan.provenance).toEqual({ planner: 'deterministic', fallbackReason: 'no plan within 800 ms' });
    expect(took).toBeGreaterThanOrEqual(795);
    // Within the whole budget: the deterministic plan still fits.
    expect(took).toBeLessThan(1_000);
  });

  it('falls back at once on a 429, without retrying, with the reason', async () => {
    server.enqueue({ status: 429, body: { error: { message: 'Rate limit reached', type: 'requests' } }, headers: { 'retry-after': '20' } });
    const plan = await planner().plan(task);
    expect(requests()).toHaveLength(1);
    expect(plan.provenance).toEqual({ planner: 'deterministic', fallbackReason: 'LLM_RATE_LIMITED: the model endpoint answered 429' });
  });

  it('does not call the model with a spent budget, nor repair past it', async () => {
    const none = await planner().plan({ ...task, budgetUsd: 0 });
    expect(requests()).toHaveLength(0);
    expect(none.provenance?.fallbackReason).toBe('model budget exhausted: planning spent $0 of the $0 left');

    server.enqueue({ content: recorded('malformed-plan.txt') });
    const once = await planner().plan({ ...task, budgetUsd: 0.001 });
    expect(requests()).toHaveLength(1);
    expect(once.provenance).toEqual({
      planner: 'deterministic',
      fallbackReason: 'model budget exhausted: planning spent $0.00105 of the $0.001 left',
      usage: perCall,
    });
  });
});
