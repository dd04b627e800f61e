import { z } from 'zod';

/** Tokens spent on a model and what they cost (LLM_PRICE_* per million tokens; 0 when unpriced). */
export const modelUsageSchema = z.object({
  inputTokens: z.number().int().nonnegative(),
  outputTokens: z.number().int().nonnegative(),
  costUsd: z.number().nonnegative(),
});
export type ModelUsage = z.infer<typeof modelUsageSchema>;

export const noUsage = (): ModelUsage => ({ inputTokens: 0, outputTokens: 0, costUsd: 0 });

export const addUsage = (a: ModelUsage, b: ModelUsage): ModelUsage => ({
  inputTokens: a.inputTokens + b.inputTokens,
  outputTokens: a.outputTokens + b.outputTokens,
  costUsd: a.costUsd + b.costUsd,
});
