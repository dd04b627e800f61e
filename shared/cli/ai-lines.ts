import { usd } from '../domain/budget.js';
import type { WorkflowView } from './types.js';

/** `amas status` lines on the AI side: which planner made the plan (and why the fallback), what models cost. */
export function aiLines(view: Pick<WorkflowView, 'plan' | 'usage'>): string[] {
  const lines: string[] = [];
  const provenance = view.plan?.provenance;
  if (provenance?.planner === 'llm') lines.push(`  planner: llm, ${provenance.model ?? 'unnamed model'}${provenance.repaired ? ' (repaired once)' : ''}`);
  else if (provenance) lines.push(`  planner: deterministic${provenance.fallbackReason ? ` (fallback: ${provenance.fallbackReason})` : ''}`);
  const { usage } = view;
  if (usage.inputTokens + usage.outputTokens > 0 || usage.costUsd > 0 || usage.budgetUsd !== null) {
    const budget = usage.budgetUsd === null ? '' : ` of ${usd(usage.budgetUsd)} budget`;
    lines.push(`  model usage: ${usage.inputTokens} input + ${usage.outputTokens} output tokens, ${usd(usage.costUsd)}${budget}`);
  }
  return lines;
}
