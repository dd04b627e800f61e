import { OrchestrationError, PlanningError, describeError, type ErrorCode } from '../../shared/errors.js';
import type { Plan } from '../../shared/domain/workflow.js';
import type { ModelUsage } from '../../shared/domain/usage.js';
import type { Planner, PlanRequest } from '../../shared/ports/planner.port.js';

/** A plan to store, or why planning failed the workflow (and what a model spent on the attempt). */
export type PlanResult = { ok: true; plan: Plan } | { ok: false; code: ErrorCode; reason: string; usage?: ModelUsage };

export class DecompositionTimeoutError extends OrchestrationError {
  constructor(seconds: number) {
    super('DECOMPOSITION_TIMEOUT', `decomposition took longer than ${seconds}s`, { retriable: false });
  }
}

/**
 * Asks the planner, bounded by `seconds`, and checks the plan's size. Every failure a retry cannot
 * mend (a PlanningError, a timeout, an empty or oversized plan, any unclassified planner error) is a
 * value; only a retriable error is thrown, so the delivery is retried instead of the workflow failed.
 */
export async function planWithin(planner: Planner, request: Omit<PlanRequest, 'timeoutMs' | 'signal'>, seconds: number): Promise<PlanResult> {
  const giveUp = new AbortController();
  let plan: Plan;
  try {
    plan = await withTimeout(planner.plan({ ...request, timeoutMs: seconds * 1000, signal: giveUp.signal }), seconds, giveUp);
  } catch (error) {
    if (error instanceof OrchestrationError && error.retriable) throw error;
    const { code, message } = describeError(error);
    return { ok: false, code, reason: failed(message), ...(error instanceof PlanningError ? { usage: error.usage } : {}) };
  }
  if (plan.subtasks.length === 0) return { ok: false, code: 'EMPTY_PLAN', reason: failed('the planner produced no subtasks') };
  if (plan.subtasks.length > request.maxSubtasks) {
    return { ok: false, code: 'PLAN_TOO_LARGE', reason: failed(`plan has ${plan.subtasks.length} subtasks, limit is ${request.maxSubtasks}`) };
  }
  return { ok: true, plan };
}

const failed = (message: string): string => `decomposition failed: ${message}`;

/** Rejects at the deadline and aborts `giveUp`, so a planner still calling a model stops too. */
async function withTimeout<T>(work: Promise<T>, seconds: number, giveUp: AbortController): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const error = new DecompositionTimeoutError(seconds);
      giveUp.abort(error);
      reject(error);
    }, seconds * 1000);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
