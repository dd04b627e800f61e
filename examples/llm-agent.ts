import { pathToFileURL } from 'node:url';
import { z } from 'zod';
import { loadConfig } from '../shared/config.js';
import type { AgentResult, AgentTask } from '../shared/agent-sdk/create-agent.js';
import { runWithAgents } from '../shared/agent-sdk/run-embedded.js';
import { createLogger } from '../shared/runtime/logger.js';

/**
 * An LLM agent over any OpenAI-compatible endpoint: POST {LLM_BASE_URL}/chat/completions with
 * LLM_API_KEY (optional for local servers) and LLM_MODEL. The model answers the subtask and rates
 * its own confidence; that self-rating is the reported quality (the plan's QA subtasks check it).
 */
export interface LlmSettings {
  baseUrl: string;
  apiKey?: string;
  model: string;
}

export function llmSettingsFromEnv(env: Record<string, string | undefined> = process.env): LlmSettings | null {
  if (!env.LLM_BASE_URL) return null;
  return { baseUrl: env.LLM_BASE_URL.replace(/\/+$/, ''), model: env.LLM_MODEL ?? 'gpt-4o-mini', ...(env.LLM_API_KEY ? { apiKey: env.LLM_API_KEY } : {}) };
}

export function chatRequest(task: AgentTask, model: string) {
  const context = task.inputs.map((input) => `- ${input.subtaskId}: ${JSON.stringify(input.output).slice(0, 2000)}`).join('\n');
  return {
    model,
    temperature: 0.2,
    messages: [
      {
        role: 'system',
        content: `You are a ${task.specialty.replaceAll('_', ' ')} in a team of AI agents. Do the task. Reply with JSON only: {"answer": string, "confidence": number between 0 and 1}.`,
      },
      { role: 'user', content: `Task: ${task.title}\n${task.description}${context ? `\n\nResults of earlier subtasks:\n${context}` : ''}` },
    ],
  };
}

const completionSchema = z.object({ choices: z.array(z.object({ message: z.object({ content: z.string().nullable() }) })).min(1) });
const answerSchema = z.object({ answer: z.string().min(1), confidence: z.number().min(0).max(1) });

/** The model's answer and confidence; a reply that is not the asked JSON is kept as text at confidence 0.5. */
export function parseCompletion(body: unknown): AgentResult {
  const content = completionSchema.parse(body).choices[0]!.message.content?.trim() ?? '';
  if (!content) throw new Error('the model returned an empty answer');
  const json = content.replace(/^```(?:json)?\s*|\s*```$/g, '');
  try {
    const parsed = answerSchema.parse(JSON.parse(json));
    return { quality: parsed.confidence, output: { answer: parsed.answer } };
  } catch {
    return { quality: 0.5, output: { answer: content } };
  }
}

export function llmHandle(settings: LlmSettings) {
  return async (task: AgentTask): Promise<AgentResult> => {
    const res = await fetch(`${settings.baseUrl}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(settings.apiKey ? { authorization: `Bearer ${settings.apiKey}` } : {}) },
      body: JSON.stringify(chatRequest(task, settings.model)),
      // Past the subtask's deadline the orchestrator has already given the work to someone else.
      signal: AbortSignal.timeout(Math.max(1_000, Date.parse(task.deadline) - Date.now())),
    });
    if (!res.ok) throw new Error(`LLM endpoint answered ${res.status}: ${(await res.text()).slice(0, 300)}`);
    return parseCompletion(await res.json());
  };
}

async function main(): Promise<void> {
  const settings = llmSettingsFromEnv();
  if (!settings) throw new Error('set LLM_BASE_URL (e.g. https://api.openai.com/v1 or http://localhost:11434/v1), LLM_MODEL and, if needed, LLM_API_KEY');
  const config = loadConfig({ ...process.env, ORCHESTRATION_DEMO_AGENTS: 'false' });
  const logger = createLogger(config.ORCHESTRATION_LOG_LEVEL, 'llm-agent');
  const description = process.argv.slice(2).join(' ') || 'Write a quick summary of the benefits of event-driven architecture';
  const { workflow, subtasks } = await runWithAgents({ description, handle: llmHandle(settings), config, logger });
  process.stdout.write(`${JSON.stringify({ workflowId: workflow.id, status: workflow.status, subtasks: subtasks.map((s) => ({ specialty: s.specialty, status: s.status, quality: s.quality, output: s.output })) }, null, 2)}\n`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
}
