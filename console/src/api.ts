import { authHeaders, currentToken, unauthenticated } from './auth.js';
import type { StateChangeRecord } from '../../shared/api/stream.js';
import type { SubtaskStatus, WorkflowStatus } from '../../shared/domain/vocabulary.js';
import type { AgentRecord, HierarchyStatus } from '../../shared/ports/agent-directory.port.js';
import type { workflowView } from '../../shared/http-api/workflow-view.js';
import type { DeadLetterList } from '../../shared/http-api/dead-letter-routes.js';

/** The API's answers, typed from the server's own definitions (type-only imports: nothing of the server is bundled). */
export type WorkflowView = ReturnType<typeof workflowView>;
export type SubtaskView = WorkflowView['subtasks'][number];
export type WorkflowSummary = Pick<WorkflowView, 'workflowId' | 'description' | 'status' | 'complexity' | 'priority' | 'createdAt' | 'completedAt'>;
export type Change = StateChangeRecord;
export type { AgentRecord, HierarchyStatus, SubtaskStatus, WorkflowStatus };

export interface WorkflowList {
  workflows: WorkflowSummary[];
  total: number;
  limit: number;
  offset: number;
}

export type DeadLetter = DeadLetterList['deadLetters'][number];

export type Command = 'pause' | 'resume' | 'cancel' | 'approve' | 'reject';

/** An API error answer, with the first validation issue as its message. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly body: { error?: string; message?: string; issues?: { path: string; message: string }[] },
  ) {
    const issue = body.issues?.[0];
    super(issue ? `${issue.path || 'request'}: ${issue.message}` : (body.message ?? body.error ?? `HTTP ${status}`));
  }
}

async function call<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<T> {
  const token = currentToken();
  const init: RequestInit = { method, headers: { accept: 'application/json', ...authHeaders(token) } };
  if (method === 'POST') init.headers = { ...init.headers, 'content-type': 'application/json' };
  if (method === 'POST') init.body = JSON.stringify(body ?? {});
  const response = await fetch(path, init);
  const parsed: unknown = await response.json().catch(() => ({}));
  if (response.status === 401) unauthenticated(token, (parsed as ApiError['body']).message);
  if (!response.ok) throw new ApiError(response.status, parsed as ApiError['body']);
  return parsed as T;
}

export const api = {
  listWorkflows: (query: { status?: WorkflowStatus; limit?: number; offset?: number }) => {
    const params = new URLSearchParams();
    for (const [name, value] of Object.entries(query)) if (value !== undefined) params.set(name, String(value));
    return call<WorkflowList>('GET', `/v1/workflows?${params}`);
  },
  workflow: (id: string) => call<WorkflowView>('GET', `/v1/workflows/${encodeURIComponent(id)}`),
  command: (id: string, command: Command) => call<WorkflowView>('POST', `/v1/workflows/${encodeURIComponent(id)}/${command}`, {}),
  submit: (task: { description: string; priority: string; requireApproval: boolean }) =>
    call<{ workflowId: string; status: WorkflowStatus; created: boolean }>('POST', '/v1/tasks', task),
  agents: () => call<{ agents: AgentRecord[] }>('GET', '/v1/agents'),
  hierarchy: () => call<HierarchyStatus>('GET', '/v1/hierarchy'),
  deadLetters: (topic?: string) => call<DeadLetterList>('GET', `/v1/dead-letters${topic ? `?topic=${encodeURIComponent(topic)}` : ''}`),
  redrive: (id: string) => call<{ id: string; topic: string; redrivenAt: string }>('POST', `/v1/dead-letters/${encodeURIComponent(id)}/redrive`, {}),
};
