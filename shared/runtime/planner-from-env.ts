import { deterministicPlanner } from '../../functions/index.js';
import { openAiLanguageModel } from '../adapters/llm/language-model.openai.js';
import { llmPlanner } from '../adapters/llm/llm-planner.js';
import { llmSettingsFromEnv, type LlmSettings } from '../adapters/llm/llm-settings.js';
import { plannerWithFallback } from '../adapters/llm/planner-with-fallback.js';
import type { Planner } from '../ports/planner.port.js';
import type { Logger } from '../observability/logger.js';

export interface ChosenPlanner {
  planner: Planner;
  /** For the start-up banner. */
  label: string;
}

/**
 * LLM_BASE_URL set: the LLM planner, falling back to the deterministic one on a timeout, a model
 * error or a plan still invalid after one repair (each plan logs which planner made it and why).
 * Unset: the deterministic planner alone.
 */
export function choosePlanner(settings: LlmSettings | null, logger: Logger): ChosenPlanner {
  if (!settings) return { planner: deterministicPlanner, label: 'deterministic (LLM_BASE_URL unset)' };
  return {
    planner: plannerWithFallback(llmPlanner(openAiLanguageModel(settings)), deterministicPlanner, { logger }),
    label: `LLM ${settings.LLM_MODEL} at ${settings.LLM_BASE_URL}, deterministic fallback`,
  };
}

/** The same choice, reading LLM_* from `env` (tests that build a runtime by hand). */
export const plannerFromEnv = (logger: Logger, env: NodeJS.ProcessEnv = process.env): ChosenPlanner => choosePlanner(llmSettingsFromEnv(env), logger);
