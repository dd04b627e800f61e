import { usd } from '../../domain/budget.js';
import { parsePlanAnswer } from '../../domain/plan-validation.js';
import { addUsage, noUsage, type ModelUsage } from '../../domain/usage.js';
import type { Plan } from '../../domain/workflow.js';
import { PlanningError, describeError } from '../../errors.js';
import type { ChatAnswer, ChatMessage, LanguageModel } from '../../ports/language-model.port.js';
import type { PlanRequest, Planner } from '../../ports/planner.port.js';
import { planDraftJsonSchema, planDraftSchema, planFromDraft } from './plan-draft.js';
import { planningMessages, repairMessage } from './plan-prompt.js';

export interface LlmPlannerOptions {
  /** Upper bound on one answer's tokens (a 50-subtask plan fits in 8k). */
  maxTokens?: number;
}

/**
 * The Planner port over a language model: one call asking for a plan draft as structured output,
 * validated (schema, specialties, limits, dependencies, cycles); an invalid answer gets exactly one
 * follow-up listing its errors. Anything else — a model error, a second invalid answer, a spent
 * budget — is a PlanningError carrying what was spent: falling back is the caller's choice
 * (plannerWithFallback), so this stays one straight path.
 */
export function llmPlanner(model: LanguageModel, options: LlmPlannerOptions = {}): Planner {
  return {
    async plan(request: PlanRequest): Promise<Plan> {
      const limits = { maxSubtasks: request.maxSubtasks };
      const messages = planningMessages(request);
      let usage: ModelUsage = noUsage();

      const ask = async (): Promise<ChatAnswer> => {
        if (request.budgetUsd !== undefined && usage.costUsd >= request.budgetUsd) {
          throw new PlanningError(`model budget exhausted: planning spent ${usd(usage.costUsd)} of the ${usd(request.budgetUsd)} left`, usage);
        }
        let answer: ChatAnswer;
        try {
          answer = await model.chat({
            messages,
            jsonSchema: { name: 'plan', schema: planDraftJsonSchema },
            temperature: 0,
            maxTokens: options.maxTokens ?? 8_192,
            ...(request.signal ? { signal: request.signal } : {}),
          });
        } catch (error) {
          const { code, message } = describeError(error);
          throw new PlanningError(`${code}: ${message}`, usage, error);
        }
        usage = addUsage(usage, answer.usage);
        return answer;
      };

      const first = await ask();
      let checked = parsePlanAnswer(planDraftSchema, first.content, limits);
      if (checked.ok) return planFromDraft(checked.value, request, { planner: 'llm', model: first.model, repaired: false, usage });

      messages.push(assistant(first.content), repairMessage(checked.errors));
      const second = await ask();
      checked = parsePlanAnswer(planDraftSchema, second.content, limits);
      if (!checked.ok) throw new PlanningError(`the plan is still invalid after one repair: ${checked.errors.join('; ')}`, usage);
      return planFromDraft(checked.value, request, { planner: 'llm', model: second.model, repaired: true, usage });
    },
  };
}

const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });
