import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config.js';
import { silentLogger } from '../runtime/logger.js';
import { chatRequest, llmHandle, llmSettingsFromEnv, parseCompletion } from '../../examples/llm-agent.js';
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
    const { workflow, subtasks } = await runWithAgents({ description: 'Research AI market trends and create presentation', handle: toolAgentHandle, config: defaultConfig({ ORCHESTRATION_DEMO_AGENTS: false }), logger: silentLogger, timeoutMs: 25_000 });
    expect(workflow.status).toBe('completed');
    expect(subtasks.length).toBeGreaterThan(2);
    for (const subtask of subtasks) expect(subtask.output).toMatchObject({ tool: 'word-count', specialty: subtask.specialty });
  });
});

describe('example LLM agent: request and response handling (no network)', () => {
  it('asks for JSON in the role of the specialty, with earlier results as context', () => {
    const request = chatRequest({ ...task, inputs: [{ subtaskId: 'st0', output: { answer: 'prior' } }] }, 'm');
    expect(request.model).toBe('m');
    expect(request.messages[0]!.content).toContain('academic researcher');
    expect(request.messages[1]!.content).toContain('st0: {"answer":"prior"}');
  });

  it('reads the model\'s confidence as quality, and keeps a non-JSON answer at 0.5', () => {
    expect(parseCompletion({ choices: [{ message: { content: '```json\n{"answer":"42","confidence":0.93}\n```' } }] })).toEqual({ quality: 0.93, output: { answer: '42' } });
    expect(parseCompletion({ choices: [{ message: { content: 'just text' } }] })).toEqual({ quality: 0.5, output: { answer: 'just text' } });
    expect(() => parseCompletion({ choices: [{ message: { content: '' } }] })).toThrow(/empty/);
    expect(() => parseCompletion({ error: 'x' })).toThrow();
  });

  it('is configured only by LLM_BASE_URL (LLM_MODEL, LLM_API_KEY optional)', () => {
    expect(llmSettingsFromEnv({})).toBeNull();
    expect(llmSettingsFromEnv({ LLM_BASE_URL: 'http://h/v1/', LLM_MODEL: 'x' })).toEqual({ baseUrl: 'http://h/v1', model: 'x' });
  });
});

// Calls a real model: runs only when LLM_BASE_URL is set (e.g. http://localhost:11434/v1 for Ollama).
const settings = llmSettingsFromEnv();
describe.skipIf(!settings)('example LLM agent against LLM_BASE_URL (skipped: LLM_BASE_URL is not set)', () => {
  it('answers a subtask through the OpenAI-compatible endpoint', async () => {
    const result = await llmHandle(settings!)(task);
    expect(result.quality).toBeGreaterThanOrEqual(0);
    expect(result.quality).toBeLessThanOrEqual(1);
    expect(String((result.output as { answer: string }).answer).length).toBeGreaterThan(0);
  }, 120_000);
});
