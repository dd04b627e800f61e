import { PlanningError, describeError } from '../../errors.js';
import type { ModelUsage } from '../../domain/usage.js';
import type { Plan } from '../../domain/workflow.js';
import type { PlanRequest, Planner } from '../../ports/planner.port.js';
import type { Logger } from '../../observability/logger.js';

export interface FallbackOptions {
  /** Share of the request's timeoutMs the primary gets; the rest is the fallback's (default 0.8). */
  primaryShare?: number;
  /** Milliseconds a timed-out primary is given to report what it spent after being aborted. */
  settleMs?: number;
  logger?: Pick<Logger, 'info' | 'warn'>;
}

/**
 * `primary` (the LLM planner) within part of the time budget; when it fails, times out or is
 * invalid, `fallback` (the deterministic planner) plans instead. The plan says which planner made
 * it, why the primary's was not used and what the primary spent trying.
 */
export function plannerWithFallback(primary: Planner, fallback: Planner, options: FallbackOptions = {}): Planner {
  const share = options.primaryShare ?? 0.8;
  return {
    async plan(request: PlanRequest): Promise<Plan> {
      const primaryMs = request.timeoutMs === undefined ? undefined : Math.max(1, Math.floor(request.timeoutMs * share));
      const controller = new AbortController();
      const abortPrimary = () => controller.abort(request.signal?.reason);
      request.signal?.addEventListener('abort', abortPrimary, { once: true });
      const attempt = primary.plan({ ...request, signal: controller.signal, ...(primaryMs === undefined ? {} : { timeoutMs: primaryMs }) });
      let timer: ReturnType<typeof setTimeout> | undefined;
      const late = new Promise<never>((_, reject) => {
        if (primaryMs === undefined) return;
        timer = setTimeout(() => {
          const reason = new Error(`no plan within ${primaryMs} ms`);
          controller.abort(reason);
          reject(reason);
        }, primaryMs);
      });
      try {
        const plan = await Promise.race([attempt, late]);
        options.logger?.info('plan made', {
          workflowId: request.workflowId,
          planner: plan.provenance?.planner ?? 'unknown',
          ...plan.provenance,
          subtasks: plan.subtasks.length,
        });
        return plan;
      } catch (error) {
        // The whole decomposition was given up: there is no time left for a fallback either.
        if (request.signal?.aborted) throw error;
        const spent = error instanceof PlanningError ? error.usage : await spentAfterAbort(attempt, options.settleMs ?? 50);
        const fallbackReason = error instanceof PlanningError ? error.message : describeError(error).message;
        const plan = await fallback.plan(request);
        const provenance = { planner: 'deterministic' as const, fallbackReason, ...(spent && spentAnything(spent) ? { usage: spent } : {}) };
        options.logger?.warn('plan made by the fallback planner', { workflowId: request.workflowId, ...provenance, subtasks: plan.subtasks.length });
        return { ...plan, provenance };
      } finally {
        clearTimeout(timer);
        request.signal?.removeEventListener('abort', abortPrimary);
      }
    },
  };
}

const spentAnything = (usage: ModelUsage): boolean => usage.inputTokens + usage.outputTokens > 0 || usage.costUsd > 0;

/** An aborted primary usually rejects at once with what it had spent (a first answer before the repair call). */
async function spentAfterAbort(attempt: Promise<Plan>, settleMs: number): Promise<ModelUsage | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const settled = await Promise.race([
    attempt.then(
      (plan) => plan.provenance?.usage,
      (error: unknown) => (error instanceof PlanningError ? error.usage : undefined),
    ),
    new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), settleMs))),
  ]);
  clearTimeout(timer);
  return settled;
}
