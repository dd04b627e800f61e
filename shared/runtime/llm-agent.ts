import { openAiLanguageModel } from '../adapters/llm/language-model.openai.js';
import { createHttpAgent, type HttpAgent } from '../agent-sdk/http-agent.js';
import { llmWork } from '../agent-sdk/llm-work.js';
import type { LanguageModel } from '../ports/language-model.port.js';
import type { Logger } from '../observability/logger.js';
import type { LlmAgentSettings } from './llm-agent-settings.js';

/** How long a stopping agent lets its model calls finish before it aborts them (under Kubernetes' 30 s grace). */
export const defaultStopGraceMs = 20_000;

export interface LlmAgent extends HttpAgent {
  /** Stops polling, waits up to `graceMs` for the work in hand, then aborts it (reported failed: re-run elsewhere). */
  stop(graceMs?: number): Promise<void>;
}

/**
 * An LLM specialist over the HTTP transport: the agent SDK's HTTP agent (its own key, no broker
 * credential) doing `llmWork` with the OpenAI-compatible model of LLM_*.
 */
export async function startLlmAgent(settings: LlmAgentSettings, logger: Logger, model: LanguageModel = openAiLanguageModel(settings)): Promise<LlmAgent> {
  const stopping = new AbortController();
  const work = llmWork({ model, stopping: stopping.signal, maxAnswerTokens: settings.AGENT_MAX_ANSWER_TOKENS });
  const agent = await createHttpAgent({
    url: settings.AMAS_URL,
    // AMAS_AUTH=none (loopback) reads no credential.
    token: settings.AMAS_AGENT_KEY ?? 'none',
    agentId: settings.AGENT_ID,
    layer: 'SPECIALIST',
    role: `llm:${model.model}`,
    specialties: settings.AGENT_SPECIALTIES,
    capacity: settings.AGENT_CAPACITY,
    logger,
    handle: async (task) => {
      const started = Date.now();
      const result = await work(task).catch((error: unknown) => {
        logger.warn('llm work failed', {
          agentId: settings.AGENT_ID,
          subtaskId: task.subtaskId,
          error: error instanceof Error ? error.message : String(error),
        });
        throw error;
      });
      logger.info('llm work done', {
        agentId: settings.AGENT_ID,
        subtaskId: task.subtaskId,
        quality: result.quality,
        ms: Date.now() - started,
        ...result.usage,
      });
      return result;
    },
  });
  return {
    id: agent.id,
    heartbeat: () => agent.heartbeat(),
    renewLeases: () => agent.renewLeases(),
    async stop(graceMs = defaultStopGraceMs) {
      const abort = setTimeout(() => stopping.abort(), graceMs);
      try {
        await agent.stop();
      } finally {
        clearTimeout(abort);
      }
    },
  };
}
