import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';
import type { subtaskCompleted, taskSubmitted } from './index.js';
import { eventDefinitions, orchestrationEventSchema, topicOf, type DataOf, type EventOf } from './index.js';
import { messageTypeSchema, prioritySchema, specialtySchema } from '../domain/vocabulary.js';

const envelope = { specversion: '1.0', id: 'e1', source: 'test', time: '2026-11-25T10:00:00.000Z' } as const;

describe('event catalog', () => {
  it('infers each event type from its one zod schema (no hand-written twin)', () => {
    expectTypeOf<DataOf<'task.submitted'>>().toEqualTypeOf<z.infer<typeof taskSubmitted.data>>();
    expectTypeOf<EventOf<'subtask.completed'>['data']['leaseToken']>().toEqualTypeOf<number>();
    expectTypeOf<EventOf<'subtask.completed'>>().toEqualTypeOf<z.infer<typeof subtaskCompleted.schema>>();
  });

  it('defines the fifteen events of the contract, each routed to exactly one topic', () => {
    const types = eventDefinitions.map((d) => d.type).sort();
    expect(types).toEqual(
      [
        'agent.heartbeat',
        'agent.lost',
        'agent.message',
        'agent.registered',
        'subtask.assigned',
        'subtask.completed',
        'subtask.dispatched',
        'subtask.failed',
        'subtask.ready',
        'task.submitted',
        'workflow.cancelled',
        'workflow.command.requested',
        'workflow.completed',
        'workflow.decomposed',
        'workflow.failed',
      ].sort(),
    );
    for (const type of types) expect(topicOf[type]).toMatch(/^amas\./);
  });

  it('accepts a valid CloudEvent and names the path of what is wrong', () => {
    const valid = {
      ...envelope,
      type: 'task.submitted',
      data: { workflowId: 'wf', description: 'x', priority: 'NORMAL', metadata: {}, requireApproval: false },
    };
    expect(orchestrationEventSchema.parse(valid).type).toBe('task.submitted');
    const bad = orchestrationEventSchema.safeParse({ ...valid, data: { ...valid.data, priority: 'SOON' } });
    expect(bad.success).toBe(false);
    expect(bad.error?.issues[0]?.path).toEqual(['data', 'priority']);
    expect(orchestrationEventSchema.safeParse({ ...valid, specversion: '0.3' }).success).toBe(false);
    expect(orchestrationEventSchema.safeParse({ ...valid, type: 'task.unknown' }).success).toBe(false);
  });

  // The spec says "29 message types" but enumerates 28, exactly as the original's MessageType enum does.
  it('carries the spec vocabulary: 30 specialties, the 28 message types it lists, 5 priorities', () => {
    expect(specialtySchema.options).toHaveLength(30);
    expect(new Set(specialtySchema.options).size).toBe(30);
    expect(messageTypeSchema.options).toHaveLength(28);
    expect(new Set(messageTypeSchema.options).size).toBe(28);
    expect(prioritySchema.options).toEqual(['LOW', 'NORMAL', 'HIGH', 'URGENT', 'CRITICAL']);
  });
});
