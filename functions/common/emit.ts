import { makeEvent, subtaskReady, type EventContext } from '../../shared/events/index.js';
import type { OrchestrationEvent } from '../../shared/events/index.js';
import type { Subtask } from '../../shared/domain/workflow.js';
import type { AnyCloudEvent } from '../../shared/events/envelope.js';
import type { CommonDeps } from './deps.js';

/** Collects the events one handler emits, numbering them so their ids derive from the cause. */
export class Emitter {
  readonly events: OrchestrationEvent[] = [];
  private readonly context: EventContext;

  constructor(deps: CommonDeps, cause: Pick<AnyCloudEvent, 'id' | 'traceparent'>) {
    this.context = { ids: deps.ids, clock: deps.clock, source: deps.source, cause };
  }

  emit<E extends Parameters<typeof makeEvent>[0]>(definition: E, data: Parameters<typeof makeEvent<E['type'], E['data']>>[1]): void {
    const event = makeEvent(definition, data, this.context, this.events.length);
    this.events.push(event as OrchestrationEvent);
  }

  ready(subtask: Subtask, excludeAgents: string[] = []): void {
    this.emit(subtaskReady, {
      workflowId: subtask.workflowId,
      subtaskId: subtask.id,
      specialty: subtask.specialty,
      attempt: subtask.attempts + 1,
      excludeAgents,
    });
  }
}
