import { OrchestrationError, type ErrorCode } from '../errors.js';
import type { ModelUsage } from '../domain/usage.js';

/**
 * A subtask the agent could not do, and what it spent trying: the SDK reports it as subtask.failed
 * with this `usage`, so tokens burnt on a failed attempt still count against the workflow.
 */
export class AgentTaskError extends OrchestrationError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly usage?: ModelUsage,
    cause?: unknown,
  ) {
    super(code, `${code}: ${message}`, { retriable: false, cause });
  }
}

export const usageOfFailure = (error: unknown): ModelUsage | undefined => (error instanceof AgentTaskError ? error.usage : undefined);

/** The optional `usage` field of a report: absent rather than undefined, so strict schemas and JSON agree. */
export const usageField = (usage: ModelUsage | undefined): { usage?: ModelUsage } => (usage ? { usage } : {});
