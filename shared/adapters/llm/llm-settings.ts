import { z } from 'zod';
import { ConfigError } from '../../errors.js';

/**
 * The OpenAI-compatible endpoint, read once from the environment. LLM_BASE_URL unset means no model:
 * the deterministic planner and the demo agents do the work.
 */
export const llmSettingsSchema = z.object({
  LLM_BASE_URL: z.url({ protocol: /^https?$/ }),
  LLM_API_KEY: z.string().min(1).default('not-needed'),
  LLM_MODEL: z.string().min(1),
  /** Seconds one call may take (the planner's own limit is ORCHESTRATION_DECOMPOSITION_TIMEOUT). */
  LLM_TIMEOUT_SECONDS: z.coerce.number().positive().max(3_600).default(60),
  /** US dollars per million input / output tokens, for cost accounting; 0 when the model is free. */
  LLM_PRICE_INPUT_PER_MTOK: z.coerce.number().nonnegative().default(0),
  LLM_PRICE_OUTPUT_PER_MTOK: z.coerce.number().nonnegative().default(0),
});
export type LlmSettings = z.infer<typeof llmSettingsSchema>;

/** The settings, or null when LLM_BASE_URL is not set; a bad value is a ConfigError naming it. */
export function llmSettingsFromEnv(env: NodeJS.ProcessEnv = process.env): LlmSettings | null {
  if (!env.LLM_BASE_URL) return null;
  const parsed = llmSettingsSchema.safeParse(env);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = String(issue?.path[0] ?? 'LLM_*');
  throw new ConfigError(`${name}=${JSON.stringify(env[name] ?? '')} is invalid: ${issue?.message ?? 'bad value'}`);
}
