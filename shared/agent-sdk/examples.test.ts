import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config.js';
import { silentLogger } from '../observability/logger.js';
import { llmSettingsFromEnv, llmSettingsSchema } from '../adapters/llm/llm-settings.js';
import { llmHandle } from '../../examples/llm-agent.js';
import { startOpenAiServer } from '../../test/unit/helpers/openai-server.js';
import { textStats, toolAgentHandle } from '../../examples/tool-agent.js';
import type { AgentTask } from './create-agent.js';
import { runWithAgents } from './run-embedded.js';

const task: AgentTask = {
  workflowId: 'wf',
  subtaskId: 'st',
  attempt: 1,
  deadline: new Date(Date.now() + 60_000).toISOString(),
  title: 'Market research',
  description: 'Research AI market trends. Research the leading vendors!',
  specialty: 'academic_researcher',
  inputs: [],
};

describe('example tool agent (deterministic)', () => {
  it('counts words and sentences and ranks keywords', () => {
    expect(textStats('Research AI market trends. Research the leading vendors!')).toEqual({
      words: 8,
      sentences: 2,
      keywords: ['research', 'leading', 'market', 'trends', 'vendors'],
      summary: 'Research AI market trends',
    });
  });

  it('completes a whole workflow as the only kind of agent on an embedded orchestrator', async () => {
    const { workflow, subtasks } = await runWithAgents({
      description: 'Research AI market trends and create presentation',
      handle: toolAgentHandle,
      config: defaultConfig({ ORCHESTRATION_DEMO_AGENTS: false }),
      logger: silentLogger,
      timeoutMs: 25_000,
    });
    expect(workflow.status).toBe('completed');
    expect(subtasks.length).toBeGreaterThan(2);
    for (const subtask of subtasks) expect(subtask.output).toMatchObject({ tool: 'word-count', specialty: subtask.specialty });
  });
});

describe('example LLM agent against a recorded OpenAI-compatible endpoint', () => {
  it("answers through the model and reports the separate grader's score as quality, with the usage of both calls", async () => {
    const server = await startOpenAiServer();
    try {
      server.enqueue({ content: 'Vendors A and B lead. I am 100% confident.' }, { content: '{"score":0.8,"reasons":["no figures"]}' });
      const result = await llmHandle(llmSettingsSchema.parse({ LLM_BASE_URL: server.baseUrl, LLM_MODEL: 'recorded' }))({
        ...task,
        inputs: [{ subtaskId: 'st0', output: { text: 'prior findings' } }],
      });
      expect(result).toMatchObject({
        quality: 0.8,
        output: { text: 'Vendors A and B lead. I am 100% confident.' },
        usage: { inputTokens: 200, outputTokens: 100 },
      });
      expect(server.requests()[0]!.messages[1]!.content).toContain('prior findings');
    } finally {
      await server.stop();
    }
  });

  it('is configured by LLM_BASE_URL and LLM_MODEL (LLM_API_KEY optional)', () => {
    expect(llmSettingsFromEnv({})).toBeNull();
    expect(llmSettingsFromEnv({ LLM_BASE_URL: 'http://h/v1', LLM_MODEL: 'x' })).toMatchObject({ LLM_BASE_URL: 'http://h/v1', LLM_MODEL: 'x' });
  });
});

// Calls a real model: runs only when LLM_BASE_URL is set (e.g. http://localhost:11434/v1 for Ollama).
const settings = llmSettingsFromEnv();
describe.skipIf(!settings)('example LLM agent against LLM_BASE_URL (skipped: LLM_BASE_URL is not set)', () => {
  it('answers a subtask through the OpenAI-compatible endpoint', async () => {
    const result = await llmHandle(settings!)(task);
    expect(result.quality).toBeGreaterThanOrEqual(0);
    expect(result.quality).toBeLessThanOrEqual(1);
    expect(String((result.output as { text: string }).text).length).toBeGreaterThan(0);
  }, 120_000);
});
