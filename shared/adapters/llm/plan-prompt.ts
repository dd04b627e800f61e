import { phaseSchema, specialtyGroups } from '../../domain/vocabulary.js';
import type { ChatMessage } from '../../ports/language-model.port.js';
import type { PlanRequest } from '../../ports/planner.port.js';

const specialties = Object.entries(specialtyGroups)
  .map(([group, members]) => `- ${group}: ${members.join(', ')}`)
  .join('\n');

/** The first turn: who plans, with what (the 30 specialties), within which limits, for which task. */
export function planningMessages(request: PlanRequest): ChatMessage[] {
  const system = [
    'You plan work for a team of specialist AI agents. Split the task into subtasks, each done by one specialist.',
    `Specialties (use these exact names, no others):\n${specialties}`,
    `Phases, in order: ${phaseSchema.options.join(' → ')}. A subtask may depend only on subtasks of an earlier phase.`,
    'Independent subtasks of one phase run in parallel: make a subtask depend only on the subtasks whose output it uses.',
    `Limits: at least 1 and at most ${request.maxSubtasks} subtasks; ids unique (s1, s2, …); every id in dependsOn is a subtask of this plan; no cycles.`,
    'Prefer a qa subtask before delivery and a final_delivery_approver in the delivery phase for anything beyond a simple request.',
    'complexity: SIMPLE (one step), MODERATE, COMPLEX, ENTERPRISE (large, regulated or cross-team), INVESTIGATION (incidents, forensics).',
    'risk: low, medium, high or critical. approvalRequired: true when a human should approve the plan before work starts.',
    'confidence: 0..1, how sure you are the plan covers the task. estimatedMinutes: working minutes of one subtask.',
    'Answer with the JSON object only.',
  ].join('\n\n');
  return [
    { role: 'system', content: system },
    { role: 'user', content: `Task: ${request.description}` },
  ];
}

/** The one follow-up: the answer's problems, to be fixed in a complete new answer. */
export function repairMessage(errors: readonly string[]): ChatMessage {
  return {
    role: 'user',
    content: `That plan cannot be used:\n${errors.map((error) => `- ${error}`).join('\n')}\nAnswer again with the complete corrected plan as one JSON object, nothing else.`,
  };
}
