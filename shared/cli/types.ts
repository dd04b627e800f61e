import type { AgentRecord, HierarchyStatus } from '../ports/agent-directory.port.js';
import type { workflowView } from '../http-api/workflow-view.js';

/** GET /v1/workflows/:id and the control commands' answer. */
export type WorkflowView = ReturnType<typeof workflowView>;
export type SubtaskView = WorkflowView['subtasks'][number];

/** POST /v1/tasks. */
export interface SubmitAnswer {
  workflowId: string;
  status: string;
  created: boolean;
  links: { self: string };
}

/** GET /v1/workflows. */
export interface WorkflowList {
  workflows: {
    workflowId: string;
    description: string;
    status: string;
    complexity: string | null;
    priority: string;
    createdAt: string;
    completedAt: string | null;
  }[];
  total?: number;
  limit: number;
  offset: number;
}

export interface AgentList {
  agents: AgentRecord[];
}
export type { HierarchyStatus };

export type { DeadLetterList } from '../http-api/dead-letter-routes.js';
