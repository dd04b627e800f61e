import type { ModelUsage } from './usage.js';

/** ORCHESTRATION_WORKFLOW_BUDGET_USD: 0 means no limit. */
export const hasBudget = (budgetUsd: number): boolean => budgetUsd > 0;

/** The workflow has spent more than its budget (never, without one). */
export const overBudget = (usage: ModelUsage, budgetUsd: number): boolean => hasBudget(budgetUsd) && usage.costUsd > budgetUsd;

/** Nothing is left to spend: a model must not be called again for this workflow. */
export const budgetExhausted = (usage: ModelUsage, budgetUsd: number): boolean => hasBudget(budgetUsd) && usage.costUsd >= budgetUsd;

/** What the planner may still spend; undefined without a budget. */
export const budgetLeft = (usage: ModelUsage, budgetUsd: number): number | undefined =>
  hasBudget(budgetUsd) ? Math.max(0, budgetUsd - usage.costUsd) : undefined;

/** Dollars with as many decimals as small model costs need ($0.00042), none wasted ($1.5). */
export const usd = (amount: number): string => `$${Number(amount.toFixed(6))}`;

/** The failure reason of a workflow stopped by its budget. */
export const budgetExceededReason = (usage: ModelUsage, budgetUsd: number): string => `budget exceeded: ${usd(usage.costUsd)} of ${usd(budgetUsd)}`;
