import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { workflowUsageViewSchema, planProvenanceViewSchema } from '../../shared/api/usage.js';
import { describeWorkflow } from '../../shared/cli/commands/workflows.js';
import type { OutgoingMessage } from '../../shared/ports/event-bus.port.js';
import { startEmbedded, type Embedded, type WorkflowBody } from './helpers/embedded.js';
import { startOpenAiServer, type OpenAiServer } from './helpers/openai-server.js';

const good = readFileSync(new URL('../fixtures/llm/good-plan.json', import.meta.url), 'utf8');
const task = { description: 'Research AI market trends and create presentation' };

let server: OpenAiServer;
beforeAll(async () => (server = await startOpenAiServer()));
afterAll(() => server.stop());

/** The orchestrator as `npm start` runs it with LLM_BASE_URL set: $3 / $15 per million tokens (100 in, 50 out per answer). */
const withModel = (env: Record<string, string> = {}) =>
  startEmbedded({ LLM_BASE_URL: server.baseUrl, LLM_MODEL: 'planner-model', LLM_PRICE_INPUT_PER_MTOK: '3', LLM_PRICE_OUTPUT_PER_MTOK: '15', ...env });

async function submit(app: Embedded): Promise<string> {
  const { status, body } = await app.post<{ workflowId: string }>('/v1/tasks', task);
  expect(status).toBe(202);
  return body.workflowId;
}

describe('the LLM planner in the embedded orchestrator', () => {
  it('plans with the model: GET /v1/workflows/:id and amas status show the planner, the tokens and the cost; /metrics counts them', async () => {
    const app = await withModel();
    try {
      server.enqueue({ content: good });
      const workflowId = await submit(app);
      expect((await app.settle(workflowId)).status).toBe('completed');
      const { body } = await app.get<WorkflowBody>(`/v1/workflows/${workflowId}`);
      expect(workflowUsageViewSchema.parse(body.usage)).toEqual({ inputTokens: 100, outputTokens: 50, costUsd: 0.00105, budgetUsd: null });
      expect(planProvenanceViewSchema.parse(body.plan?.provenance)).toEqual({
        planner: 'llm',
        model: 'planner-model',
        repaired: false,
        usage: { inputTokens: 100, outputTokens: 50, costUsd: 0.00105 },
      });
      expect(body.subtasks.map((s) => s.title)).toContain('Analyse growth and segments');
      expect(describeWorkflow(body)).toContain('  planner: llm, planner-model\n  model usage: 100 input + 50 output tokens, $0.00105\n');

      const metrics = (await app.get<string>('/metrics')).body;
      expect(metrics).toContain('orchestration_llm_tokens_total{kind="input",source="planner"} 100');
      expect(metrics).toContain('orchestration_llm_tokens_total{kind="output",source="planner"} 50');
      expect(metrics).toContain('orchestration_llm_cost_usd_total{source="planner"} 0.00105');
    } finally {
      await app.stop();
    }
  });

  it('falls back in time when the model is slower than ORCHESTRATION_DECOMPOSITION_TIMEOUT: the workflow runs, it does not fail', async () => {
    const app = await withModel({ ORCHESTRATION_DECOMPOSITION_TIMEOUT: '1' });
    try {
      server.enqueue({ content: good, delayMs: 10_000 });
      const started = Date.now();
      const workflowId = await submit(app);
      const workflow = await app.settle(workflowId);
      expect(workflow.status).toBe('completed');
      expect(workflow.plan?.provenance).toEqual({ planner: 'deterministic', fallbackReason: 'no plan within 800 ms' });
      expect(Date.now() - started).toBeLessThan(10_000);
      const { body } = await app.get<WorkflowBody>(`/v1/workflows/${workflowId}`);
      expect(describeWorkflow(body)).toContain('  planner: deterministic (fallback: no plan within 800 ms)');
    } finally {
      await app.stop();
    }
  });

  it('fails a workflow cleanly once its agents spend past ORCHESTRATION_WORKFLOW_BUDGET_USD: nothing left running, slots released', async () => {
    const app = await withModel({ ORCHESTRATION_WORKFLOW_BUDGET_USD: '0.005', ORCHESTRATION_DEMO_AGENT_DELAY_MS: '100' });
    // Agents report what their model cost, as an LLM agent does: here each demo result says $0.002.
    const publish = app.bus.publish.bind(app.bus);
    const reporting = (m: OutgoingMessage): OutgoingMessage =>
      m.event.type === 'subtask.completed'
        ? { ...m, event: { ...m.event, data: { ...(m.event.data as object), usage: { inputTokens: 2_000, outputTokens: 500, costUsd: 0.002 } } } }
        : m;
    app.bus.publish = (topic, messages, headers) => publish(topic, messages.map(reporting), headers);
    try {
      server.enqueue({ content: good });
      const workflowId = await submit(app);
      const workflow = await app.settle(workflowId);
      // Planner $0.00105, then the two parallel research results $0.002 each: $0.00505 > $0.005.
      expect(workflow).toMatchObject({ status: 'failed', failureReason: 'budget exceeded: $0.00505 of $0.005' });
      await app.quiesce();

      const { body } = await app.get<WorkflowBody>(`/v1/workflows/${workflowId}`);
      expect(body.usage).toEqual({ inputTokens: 4_100, outputTokens: 1_050, costUsd: expect.closeTo(0.00505, 9) as number, budgetUsd: 0.005 });
      expect(body.subtasks.map((s) => s.status)).toEqual(['completed', 'completed', 'cancelled', 'cancelled', 'cancelled', 'cancelled']);
      expect(describeWorkflow(body)).toContain('  model usage: 4100 input + 1050 output tokens, $0.00505 of $0.005 budget');
      const agents = await app.runtime.ports.directory.list();
      expect(agents.filter((a) => a.load > 0)).toEqual([]);
      const metrics = (await app.get<string>('/metrics')).body;
      expect(metrics).toContain('orchestration_llm_tokens_total{kind="input",source="agent"} 4000');
    } finally {
      await app.stop();
    }
  });
});
