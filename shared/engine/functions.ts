import { assign, control } from '../../functions/index.js';
import { complete } from '../../functions/index.js';
import { decompose } from '../../functions/index.js';
import { dispatch } from '../../functions/index.js';
import type { Config } from '../config.js';
import type { EventType, FunctionName, OrchestrationEvent } from '../events/index.js';
import type { AgentDirectory, AgentSpawner, Clock, Ids, LeaseStore, Outcome, Planner, SnapshotScope, WorkflowStore } from '../ports/index.js';

/** Every port a function may need; each handler receives only the ones it declares. */
export interface RuntimePorts {
  store: WorkflowStore;
  leases: LeaseStore;
  directory: AgentDirectory;
  planner: Planner;
  spawner?: AgentSpawner;
  clock: Clock;
  ids: Ids;
  config: Config;
  source: string;
}

export interface FunctionDefinition {
  accepts: readonly EventType[];
  /** The subtasks of the event's workflow the handler reads: processEvent fetches them with the workflow in one query. */
  reads: SnapshotScope['subtasks'];
  run(event: OrchestrationEvent, ports: RuntimePorts): Promise<Outcome>;
}

const when = <T extends EventType>(event: OrchestrationEvent, ...types: T[]): event is Extract<OrchestrationEvent, { type: T }> =>
  (types as EventType[]).includes(event.type);

export const orchestrationFunctions: Record<FunctionName, FunctionDefinition> = {
  decompose: {
    accepts: ['task.submitted'],
    reads: 'none',
    run: (event, ports) => (when(event, 'task.submitted') ? decompose(event, ports) : unexpected(event)),
  },
  assign: {
    accepts: ['subtask.ready'],
    reads: 'one',
    run: (event, ports) => (when(event, 'subtask.ready') ? assign(event, ports) : unexpected(event)),
  },
  dispatch: {
    accepts: ['subtask.assigned'],
    // Its dependencies' outputs too, when it has any.
    reads: 'all',
    run: (event, ports) => (when(event, 'subtask.assigned') ? dispatch(event, ports) : unexpected(event)),
  },
  complete: {
    accepts: ['subtask.completed', 'subtask.failed'],
    reads: 'all',
    run: (event, ports) => (when(event, 'subtask.completed', 'subtask.failed') ? complete(event, ports) : unexpected(event)),
  },
  // A user's command: the event's id is the command's idempotency key, which its emitted events derive from.
  control: {
    accepts: ['workflow.command.requested'],
    reads: 'all',
    run: (event, ports) =>
      when(event, 'workflow.command.requested')
        ? control(event.data.command, event.data.workflowId, event.id, ports, event.data.reason, event.data.stage)
        : unexpected(event),
  },
};

function unexpected(event: OrchestrationEvent): never {
  throw new Error(`no handler for ${event.type}`);
}
