import type { ModelUsage } from '../domain/usage.js';

export type { ModelUsage };

/** One chat turn sent to a model. */
export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface ChatRequest {
  messages: ChatMessage[];
  /** Ask for structured output: the answer must be JSON matching this JSON Schema. */
  jsonSchema?: { name: string; schema: Record<string, unknown> };
  maxTokens?: number;
  temperature?: number;
  /** Aborts the call (a decomposition timeout, a shutdown). */
  signal?: AbortSignal;
}

export interface ChatAnswer {
  content: string;
  model: string;
  usage: ModelUsage;
}

/**
 * A chat model behind any OpenAI-compatible endpoint (OpenAI, vLLM, Ollama, llama.cpp…).
 * Failures are LanguageModelError values with a code: RATE_LIMITED and UNAVAILABLE are retriable,
 * TIMEOUT and REFUSED are not.
 */
export interface LanguageModel {
  readonly model: string;
  chat(request: ChatRequest): Promise<ChatAnswer>;
}
