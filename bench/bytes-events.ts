// One realistic event of every type of the catalog, built with the catalog's own constructor
// (makeEvent), as a function emits it: envelope with subject, workflowid and a traceparent.
import { makeEvent, type EventContext } from '../shared/events/make-event.js';
import * as catalog from '../shared/events/catalog.js';
import type { OrchestrationEvent } from '../shared/events/catalog.js';

const workflowId = 'wf_01JEXAMPLE7Q4M0Z9K3V5T8N2R';
const subtaskId = `${workflowId}.research-market-3`;
const agentId = 'specialist-web_intelligence_gatherer-07';
const time = Date.parse('2026-12-05T18:00:00.000Z');
const usage = { inputTokens: 1_840, outputTokens: 912, costUsd: 0.0213 };
const paragraph =
  'The enterprise AI market grew 38% year over year, led by copilots for support and code; ' +
  'procurement now asks for evaluation evidence, data residency and per-seat pricing caps. ';

const context: EventContext = {
  ids: { newId: (prefix) => `${prefix}_01JEXAMPLEID0000000000000`, derivedId: (cause, n) => `${cause}.${n}` },
  clock: { now: () => time },
  source: 'amas/complete',
  cause: { id: 'evt_01JEXAMPLECAUSE000000000000', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
};

export function catalogSamples(): OrchestrationEvent[] {
  const e = <T extends { type: string; data: Parameters<typeof makeEvent>[0]['data'] }>(definition: T, data: unknown): OrchestrationEvent =>
    makeEvent(definition, data as never, context) as unknown as OrchestrationEvent;
  return [
    e(catalog.taskSubmitted, {
      workflowId,
      description: 'Research AI market trends in 2026 and create a 12-slide presentation for the board, with sources and a risk section.',
      priority: 'HIGH',
      metadata: { tenant: 'acme', submittedBy: 'alice@example.com', tags: ['board', 'q4'] },
      requireApproval: false,
    }),
    e(catalog.workflowDecomposed, {
      workflowId,
      complexity: 'COMPLEX',
      confidence: 0.82,
      subtaskIds: Array.from({ length: 8 }, (_, i) => `${workflowId}.step-${i}`),
      estimatedHours: 6.5,
      risk: 'medium',
      approvalRequired: false,
    }),
    e(catalog.subtaskReady, {
      workflowId,
      subtaskId,
      specialty: 'web_intelligence_gatherer',
      attempt: 1,
      excludeAgents: [],
      carried: { subtaskVersion: 2, tenant: 'default' },
    }),
    e(catalog.subtaskAssigned, { workflowId, subtaskId, specialty: 'web_intelligence_gatherer', attempt: 1, agentId, leadId: 'research_team_lead-01' }),
    e(catalog.subtaskDispatched, {
      workflowId,
      subtaskId,
      attempt: 1,
      agentId,
      leaseToken: 42,
      deadline: '2026-12-05T18:05:00.000Z',
      task: {
        title: 'Gather market-size figures',
        description: 'Collect 2025-2026 market-size estimates for enterprise AI from at least five independent sources.',
        specialty: 'web_intelligence_gatherer',
        inputs: [{ subtaskId: `${workflowId}.step-0`, output: { summary: paragraph.repeat(2) } }],
        successCriteria: ['five sources', 'figures dated', 'currency normalised'],
      },
    }),
    e(catalog.subtaskCompleted, {
      workflowId,
      subtaskId,
      attempt: 1,
      agentId,
      leaseToken: 42,
      quality: 0.91,
      output: { summary: paragraph.repeat(8), sources: Array.from({ length: 5 }, (_, i) => ({ url: `https://example.com/report-${i}`, year: 2026 })) },
      durationMs: 48_200,
      usage,
    }),
    e(catalog.subtaskFailed, {
      workflowId,
      subtaskId,
      attempt: 1,
      agentId,
      leaseToken: 42,
      reason: 'model returned no usable answer',
      cause: 'agent_error',
      usage,
    }),
    e(catalog.workflowCompleted, { workflowId, subtaskCount: 8, averageQuality: 0.88 }),
    e(catalog.workflowFailed, { workflowId, reason: 'subtask exhausted its retries', failedSubtaskId: subtaskId }),
    e(catalog.workflowCancelled, { workflowId, reason: 'cancelled by alice@example.com', cancelledSubtaskIds: [subtaskId, `${workflowId}.step-4`] }),
    e(catalog.workflowCommandRequested, { workflowId, command: 'approve', reason: 'plan reviewed', stage: 'plan', requestedBy: 'alice@example.com' }),
    e(catalog.agentRegistered, {
      agentId,
      layer: 'SPECIALIST',
      role: 'web_intelligence_gatherer',
      specialties: ['web_intelligence_gatherer', 'news_trends_analyzer'],
      supervisorId: 'research_team_lead-01',
      capacity: 4,
      demo: false,
    }),
    e(catalog.agentHeartbeat, { agentId, status: 'BUSY', load: 3 }),
    e(catalog.agentLost, { agentId, reason: 'heartbeat missed for 30 s', subtaskIds: [subtaskId] }),
    e(catalog.agentMessage, {
      messageId: 'msg_01JEXAMPLEMSG0000000000000',
      senderId: agentId,
      recipientId: 'research_team_lead-01',
      messageType: 'STATUS_UPDATE',
      priority: 'NORMAL',
      payload: { progress: 0.6, note: paragraph },
      correlationId: subtaskId,
      sentAt: '2026-12-05T18:01:00.000Z',
      signature: 'k3J9vQ2xWbq0c8YpZ1fL7mR4sT6uV8wX0yA2bC4dE6f',
      expiresAt: '2026-12-05T18:06:00.000Z',
    }),
  ];
}
