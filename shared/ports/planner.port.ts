import type { Plan } from '../domain/workflow.js';

export interface PlanRequest {
  workflowId: string;
  description: string;
  maxSubtasks: number;
}

/** Turns a task description into a plan; the deterministic planner is the default, an LLM one may plug in. */
export interface Planner {
  plan(request: PlanRequest): Promise<Plan>;
}
