import OpenAI from 'openai';
import { OrchestrationError } from '../../errors.js';
import type { ChatAnswer, ChatRequest, LanguageModel } from '../../ports/language-model.port.js';
import type { LlmSettings } from './llm-settings.js';

export type LanguageModelErrorCode = 'RATE_LIMITED' | 'UNAVAILABLE' | 'TIMEOUT' | 'REFUSED';

/** A model call that did not give an answer; `retryAfterMs` when the server said how long to wait. */
export class LanguageModelError extends OrchestrationError {
  constructor(
    readonly reason: LanguageModelErrorCode,
    message: string,
    readonly retryAfterMs?: number,
    cause?: unknown,
  ) {
    super(`LLM_${reason}`, message, { retriable: reason === 'RATE_LIMITED' || reason === 'UNAVAILABLE', cause });
  }
}

/** The LanguageModel port over the official `openai` client, pointed at any compatible base URL. */
export function openAiLanguageModel(settings: LlmSettings): LanguageModel {
  // Retries are the caller's decision (the planner falls back instead of waiting out a 429).
  const client = new OpenAI({ baseURL: settings.LLM_BASE_URL, apiKey: settings.LLM_API_KEY, maxRetries: 0, timeout: settings.LLM_TIMEOUT_SECONDS * 1000 });
  const price = (tokens: number, perMillion: number) => (tokens * perMillion) / 1_000_000;
  return {
    model: settings.LLM_MODEL,
    async chat(request: ChatRequest): Promise<ChatAnswer> {
      try {
        const completion = await client.chat.completions.create(
          {
            model: settings.LLM_MODEL,
            messages: request.messages,
            ...(request.maxTokens !== undefined ? { max_tokens: request.maxTokens } : {}),
            ...(request.temperature !== undefined ? { temperature: request.temperature } : {}),
            ...(request.jsonSchema
              ? {
                  response_format: {
                    type: 'json_schema' as const,
                    json_schema: { name: request.jsonSchema.name, schema: request.jsonSchema.schema, strict: true },
                  },
                }
              : {}),
          },
          { signal: request.signal },
        );
        const choice = completion.choices[0];
        const content = choice?.message.content ?? '';
        if (choice?.message.refusal) throw new LanguageModelError('REFUSED', `the model refused: ${choice.message.refusal}`);
        const inputTokens = completion.usage?.prompt_tokens ?? 0;
        const outputTokens = completion.usage?.completion_tokens ?? 0;
        return {
          content,
          model: completion.model || settings.LLM_MODEL,
          usage: {
            inputTokens,
            outputTokens,
            costUsd: price(inputTokens, settings.LLM_PRICE_INPUT_PER_MTOK) + price(outputTokens, settings.LLM_PRICE_OUTPUT_PER_MTOK),
          },
        };
      } catch (error) {
        throw classify(error);
      }
    },
  };
}

function classify(error: unknown): unknown {
  if (error instanceof LanguageModelError) return error;
  if (error instanceof OpenAI.APIConnectionTimeoutError) return new LanguageModelError('TIMEOUT', 'the model did not answer in time', undefined, error);
  if (error instanceof OpenAI.APIUserAbortError) return new LanguageModelError('TIMEOUT', 'the model call was aborted', undefined, error);
  if (error instanceof OpenAI.RateLimitError) {
    const seconds = Number(error.headers?.get('retry-after'));
    return new LanguageModelError('RATE_LIMITED', 'the model endpoint answered 429', Number.isFinite(seconds) ? seconds * 1000 : undefined, error);
  }
  if (error instanceof OpenAI.APIConnectionError)
    return new LanguageModelError('UNAVAILABLE', `the model endpoint is unreachable: ${error.message}`, undefined, error);
  if (error instanceof OpenAI.APIError) {
    const status = error.status ?? 0;
    return new LanguageModelError(status >= 500 ? 'UNAVAILABLE' : 'REFUSED', `the model endpoint answered ${status}: ${error.message}`, undefined, error);
  }
  return error;
}
