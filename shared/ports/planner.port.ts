import type { Plan } from '../domain/workflow.js';

export interface PlanRequest {
  workflowId: string;
  description: string;
  maxSubtasks: number;
  /**
   * Milliseconds the planner has (ORCHESTRATION_DECOMPOSITION_TIMEOUT). A planner that calls out
   * must answer or give up within it; a fallback composition gives its primary only part of it.
   */
  timeoutMs?: number;
  /** Aborted when the plan is no longer wanted (the decomposition timed out). */
  signal?: AbortSignal;
  /** US dollars the planner may still spend on a model (the workflow's budget left); absent: no limit. */
  budgetUsd?: number;
}

/**
 * Turns a task description into a plan; the deterministic planner is the default, an LLM one may
 * plug in. A plan records in `provenance` which planner made it and what it spent; a failure that
 * spent something is a PlanningError carrying its `usage`.
 */
export interface Planner {
  plan(request: PlanRequest): Promise<Plan>;
}
