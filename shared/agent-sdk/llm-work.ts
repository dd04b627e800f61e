import { OrchestrationError } from '../errors.js';
import { retry } from '../retry.js';
import { addUsage, noUsage, type ModelUsage } from '../domain/usage.js';
import type { ChatAnswer, ChatRequest, LanguageModel } from '../ports/language-model.port.js';
import { AgentTaskError } from './agent-task-error.js';
import type { AgentResult, AgentTask } from './create-agent.js';
import { answerMessages, defaultContextChars, gradeMessages, gradeResponseFormat, gradeSchema, type Grade } from './llm-prompt.js';

export interface LlmWorkOptions {
  model: LanguageModel;
  /** Characters of dependency outputs one prompt carries; default 24,000. */
  contextChars?: number;
  /** Tokens the answer may take; default 4,000. */
  maxAnswerTokens?: number;
  /**
   * A rate-limited (429) or unavailable (5xx, unreachable) call is tried once more, after the
   * server's Retry-After or `retryDelayMs`; a Retry-After above `maxRetryWaitMs` (default 10 s)
   * fails the attempt at once, and the orchestrator re-runs the subtask.
   */
  maxRetryWaitMs?: number;
  retryDelayMs?: number;
  /** Aborted when the agent shuts down: work in hand fails at once (AGENT_STOPPED) and is re-run elsewhere. */
  stopping?: AbortSignal;
  now?: () => number;
}

/** What an LLM agent reports as a subtask's output; `text` is what dependent subtasks read. */
export interface LlmOutput {
  text: string;
  model: string;
  title: string;
  specialty: string;
  grading: Grade & { model: string };
}

const retryAfterOf = (error: unknown): number | undefined => {
  const asked = error instanceof OrchestrationError && 'retryAfterMs' in error ? error.retryAfterMs : undefined;
  return typeof asked === 'number' ? asked : undefined;
};

/**
 * The work of an LLM specialist: answer the subtask with the model (its dependencies' outputs as
 * context), then have the answer graded by a separate call that sees only the task, its criteria
 * and the answer. Quality is the grader's score, never what the answer says of itself. Usage is the
 * sum of every call, reported on success and on failure (AgentTaskError).
 */
export function llmWork(options: LlmWorkOptions): (task: AgentTask) => Promise<AgentResult> {
  const {
    model,
    contextChars = defaultContextChars,
    maxAnswerTokens = 4_000,
    maxRetryWaitMs = 10_000,
    retryDelayMs = 1_000,
    stopping,
    now = Date.now,
  } = options;

  return async (task) => {
    let usage: ModelUsage = noUsage();
    // Work past the deadline is recovered and re-run elsewhere: stop paying for it.
    const pastDeadline = AbortSignal.timeout(Math.max(1, Date.parse(task.deadline) - now()));
    const signal = stopping ? AbortSignal.any([pastDeadline, stopping]) : pastDeadline;

    const call = async (request: Omit<ChatRequest, 'signal'>): Promise<ChatAnswer> => {
      try {
        const answer = await retry({ retries: 1, initialDelayMs: retryDelayMs, maxDelayMs: maxRetryWaitMs, delayFor: retryAfterOf }, () =>
          model.chat({ ...request, signal }),
        );
        usage = addUsage(usage, answer.usage);
        return answer;
      } catch (error) {
        if (stopping?.aborted) throw new AgentTaskError('AGENT_STOPPED', 'the agent stopped before the model answered', usage, error);
        const code = error instanceof OrchestrationError ? error.code : 'LLM_ERROR';
        throw new AgentTaskError(code, error instanceof Error ? error.message : String(error), usage, error);
      }
    };

    const answer = await call({ messages: answerMessages(task, contextChars), maxTokens: maxAnswerTokens, temperature: 0.2 });
    const text = answer.content.trim();
    if (!text) throw new AgentTaskError('LLM_EMPTY_ANSWER', 'the model returned an empty answer', usage);

    const grading = await grade(task, text, call, () => usage);
    const output: LlmOutput = { text, model: answer.model, title: task.title, specialty: task.specialty, grading };
    return { quality: grading.score, output, usage };
  };
}

/**
 * One grading call, and one repair turn when its reply is not a valid grade. A grade still invalid
 * fails the attempt (LLM_GRADE_INVALID) rather than inventing a score: an unjudged answer must not
 * pass, and reporting it as "poor quality" would blame the answer for the grader's fault.
 */
async function grade(
  task: AgentTask,
  text: string,
  call: (request: Omit<ChatRequest, 'signal'>) => Promise<ChatAnswer>,
  spent: () => ModelUsage,
): Promise<LlmOutput['grading']> {
  const messages = gradeMessages(task, text);
  let problem = '';
  for (let turn = 0; turn < 2; turn++) {
    const reply = await call({ messages, jsonSchema: gradeResponseFormat, maxTokens: 500, temperature: 0 });
    const parsed = parseGrade(reply.content);
    if ('grade' in parsed) return { ...parsed.grade, model: reply.model };
    problem = parsed.problem;
    messages.push(
      { role: 'assistant', content: reply.content },
      {
        role: 'user',
        content: `That is not a valid grade (${problem}). Reply with JSON only: {"score": a number from 0 to 1, "reasons": [one to five short strings]}.`,
      },
    );
  }
  throw new AgentTaskError('LLM_GRADE_INVALID', `the grader gave no valid grade after one repair: ${problem}`, spent());
}

export function parseGrade(content: string): { grade: Grade } | { problem: string } {
  // Models without structured output often fence their JSON.
  const body = content.trim().replace(/^```(?:json)?\s*([\s\S]*?)\s*```$/, '$1');
  let json: unknown;
  try {
    json = JSON.parse(body);
  } catch {
    return { problem: `not JSON: ${JSON.stringify(body.slice(0, 80))}` };
  }
  const parsed = gradeSchema.safeParse(json);
  if (parsed.success) return { grade: parsed.data };
  const issue = parsed.error.issues[0];
  return { problem: `${issue?.path.join('.') || 'grade'}: ${issue?.message ?? 'invalid'}` };
}
