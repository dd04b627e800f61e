import { pathToFileURL } from 'node:url';
import { openAiLanguageModel } from '../shared/adapters/llm/language-model.openai.js';
import { llmSettingsFromEnv, type LlmSettings } from '../shared/adapters/llm/llm-settings.js';
import { loadConfig } from '../shared/config.js';
import type { AgentResult, AgentTask } from '../shared/agent-sdk/create-agent.js';
import { llmWork } from '../shared/agent-sdk/llm-work.js';
import { runWithAgents } from '../shared/agent-sdk/run-embedded.js';
import { createLogger } from '../shared/observability/logger.js';

/**
 * An LLM agent over any OpenAI-compatible endpoint (LLM_BASE_URL, LLM_MODEL, LLM_API_KEY optional for
 * local servers): the SDK's `llmWork` answers the subtask with earlier results as context, and a
 * separate grading call, not the answer's own confidence, gives the reported quality.
 */
export const llmHandle = (settings: LlmSettings): ((task: AgentTask) => Promise<AgentResult>) => llmWork({ model: openAiLanguageModel(settings) });

async function main(): Promise<void> {
  const settings = llmSettingsFromEnv();
  if (!settings) throw new Error('set LLM_BASE_URL (e.g. https://api.openai.com/v1 or http://localhost:11434/v1), LLM_MODEL and, if needed, LLM_API_KEY');
  const config = loadConfig({ ...process.env, ORCHESTRATION_DEMO_AGENTS: 'false' });
  const logger = createLogger(config.ORCHESTRATION_LOG_LEVEL, 'llm-agent');
  const description = process.argv.slice(2).join(' ') || 'Write a quick summary of the benefits of event-driven architecture';
  const { workflow, subtasks } = await runWithAgents({ description, handle: llmHandle(settings), config, logger });
  process.stdout.write(
    `${JSON.stringify({ workflowId: workflow.id, status: workflow.status, subtasks: subtasks.map((s) => ({ specialty: s.specialty, status: s.status, quality: s.quality, output: s.output })) }, null, 2)}\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
}
