import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deterministicPlanner } from '../../functions/index.js';
import { systemClock } from '../../shared/adapters/memory/clock.system.js';
import { createIds } from '../../shared/adapters/memory/ids.js';
import { defaultConfig, type Config } from '../../shared/config.js';
import { DependencyUnavailableError } from '../../shared/errors.js';
import { deadLetterTopic, makeEvent, taskSubmitted } from '../../shared/events/index.js';
import type { EventBus, Planner, WorkflowStore } from '../../shared/ports/index.js';

/** What the binding told its transport, one entry per delivery of a record; `dlq` last when it ended as a dead letter. */
export type Told = 'ack' | 'retry' | 'dlq';

/** A dead letter as the transport keeps it: the failed record's id and the reason given. */
export interface DeadLetterSeen {
  originalId: string | undefined;
  code: string;
  message: string;
}

export interface BindingSetup {
  /** Short retry back-offs: ORCHESTRATION_RETRY_ATTEMPTS in-process retries. */
  config: Config;
  /** Wrap the binding runtime's store with this: it injects the suite's failures and logs commits. */
  wrap(store: WorkflowStore): WorkflowStore;
  planner: Planner;
}

export interface BindingDriver {
  /** Whether the transport delivers again a record it is told to retry (SQS, Knative), or only dead-letters (Kafka, the in-process log). */
  redelivers: boolean;
  /** The wrapped store: the suite seeds workflows and reads state through it. */
  store: WorkflowStore;
  /**
   * Hands the values over in this order as the transport would (one key / message group per
   * workflow), delivers again what it is told to retry as the transport does, and resolves once each
   * is settled, with what the binding told the transport for each value.
   */
  deliver(values: { id: string }[]): Promise<Told[][]>;
  deadLetters(): Promise<DeadLetterSeen[]>;
  close(): Promise<void>;
}

/** The dead letters the runtime published to `<topic>.dlq` (Kafka, the in-process log, SQS through the bus). */
export async function lettersOn(bus: EventBus, topic: string): Promise<DeadLetterSeen[]> {
  return (await bus.read(deadLetterTopic(topic))).map((delivery) => {
    const { data } = delivery.value as { data: { code: string; reason: string; original?: { id?: string } } };
    return { originalId: data.original?.id, code: data.code, message: data.reason };
  });
}

/** The partition key / message group of a value: its workflow, as the publishers key it. */
export const keyOfValue = (value: { id: string }): string => (value as { data?: { workflowId?: string } }).data?.workflowId ?? value.id;

export const deliveryConfig = defaultConfig({
  ORCHESTRATION_RETRY_ATTEMPTS: 2,
  ORCHESTRATION_RETRY_DELAY_INITIAL: 0.01,
  ORCHESTRATION_RETRY_DELAY_MAX: 0.02,
  ORCHESTRATION_PLAN_APPROVAL: 'OFF',
});
const retries = deliveryConfig.ORCHESTRATION_RETRY_ATTEMPTS;

/**
 * The delivery decision every binding must show (handleDelivery behind a thin translator), with
 * the decompose function: a duplicate is applied once; an invalid CloudEvent is dead-lettered with
 * a reason naming the field; a store that fails with DependencyUnavailableError, then works, loses
 * nothing; one workflow's events are applied in the order delivered; a non-retriable failure is
 * dead-lettered with its reason.
 */
export function deliveryBindingContract(name: string, make: (setup: BindingSetup) => Promise<BindingDriver>): void {
  describe(`delivery binding contract: ${name}`, () => {
    const failing = new Map<string, number>();
    const commits: string[] = [];
    const planned: { workflowId: string; description: string }[] = [];
    const setup: BindingSetup = {
      config: deliveryConfig,
      planner: {
        plan(request) {
          planned.push({ workflowId: request.workflowId, description: request.description });
          return deterministicPlanner.plan(request);
        },
      },
      wrap: (store) => {
        const check = (eventId: string) => {
          const left = failing.get(eventId) ?? 0;
          if (left <= 0) return;
          failing.set(eventId, left - 1);
          throw new DependencyUnavailableError('PostgreSQL (injected)');
        };
        return {
          ...store,
          async commit(change) {
            check(change.eventId);
            const status = await store.commit(change);
            if (status === 'applied') commits.push(change.eventId);
            return status;
          },
          async commitClaimed(change, claimMs) {
            check(change.eventId);
            const committed = await store.commitClaimed(change, claimMs);
            if (committed.status === 'applied') commits.push(change.eventId);
            return committed;
          },
        };
      },
    };
    let driver: BindingDriver;
    beforeAll(async () => {
      driver = await make(setup);
    });
    afterAll(async () => {
      await driver?.close();
    });

    const ids = createIds();
    const submitted = (workflowId: string, description = 'Research AI market trends and create presentation') =>
      makeEvent(
        taskSubmitted,
        { workflowId, description, priority: 'NORMAL', metadata: {}, requireApproval: false },
        { ids, clock: systemClock, source: 'amas/test' },
      );
    const workflow = async (description = 'Research AI market trends and create presentation') => {
      const id = `wf_${randomUUID()}`;
      await driver.store.createWorkflow({ id, description, priority: 'NORMAL', metadata: {}, idempotencyKey: null, createdAt: new Date().toISOString() }, []);
      return id;
    };
    const letterOf = async (id: string) => (await driver.deadLetters()).filter((l) => l.originalId === id);
    const plannedFor = (workflowId: string) => planned.filter((p) => p.workflowId === workflowId).map((p) => p.description);

    it('applies a duplicate delivery once', async () => {
      const workflowId = await workflow();
      const event = submitted(workflowId);
      expect(await driver.deliver([event, event])).toEqual([['ack'], ['ack']]);
      expect(commits.filter((id) => id === event.id)).toHaveLength(1);
      expect(plannedFor(workflowId)).toHaveLength(1);
      expect(await driver.store.getWorkflow(workflowId)).toMatchObject({ status: 'running', plan: expect.any(Object) });
      expect(await letterOf(event.id)).toEqual([]);
    });

    it('dead-letters an invalid CloudEvent at once, with a reason naming the field', async () => {
      const poison = {
        specversion: '1.0',
        id: `poison-${randomUUID()}`,
        source: 'amas/test',
        type: 'task.submitted',
        time: new Date().toISOString(),
        data: { description: 'no workflow id' },
      };
      expect(await driver.deliver([poison])).toEqual([['dlq']]);
      const [letter, ...more] = await letterOf(poison.id);
      expect(more).toEqual([]);
      expect(letter).toMatchObject({ code: 'INVALID_EVENT', message: expect.stringMatching(/data\.workflowId/) });
    });

    it('loses nothing when the store fails with a retriable error, then works', async () => {
      const workflowId = await workflow();
      const event = submitted(workflowId);
      failing.set(event.id, retries);
      expect(await driver.deliver([event])).toEqual([['ack']]);
      expect(commits.filter((id) => id === event.id)).toHaveLength(1);
      expect(await driver.store.getWorkflow(workflowId)).toMatchObject({ status: 'running' });
    });

    it('past the in-process retries: delivered again if the transport can, else dead-lettered with the reason', async () => {
      const workflowId = await workflow();
      const event = submitted(workflowId);
      failing.set(event.id, retries + 1);
      const told = await driver.deliver([event]);
      if (driver.redelivers) {
        expect(told).toEqual([['retry', 'ack']]);
        expect(await driver.store.getWorkflow(workflowId)).toMatchObject({ status: 'running' });
        expect(await letterOf(event.id)).toEqual([]);
      } else {
        expect(told).toEqual([['dlq']]);
        expect(await letterOf(event.id)).toEqual([{ originalId: event.id, code: 'DEPENDENCY_UNAVAILABLE', message: expect.stringMatching(/unavailable/) }]);
        expect(await driver.store.getWorkflow(workflowId)).toMatchObject({ status: 'pending', plan: null });
      }
    });

    it('dead-letters a failure that never clears, with its reason, once the transport gives up', async () => {
      const workflowId = await workflow();
      const event = submitted(workflowId);
      failing.set(event.id, Number.POSITIVE_INFINITY);
      const [told] = await driver.deliver([event]);
      failing.delete(event.id);
      expect(told!.at(-1)).toBe('dlq');
      expect(told!.slice(0, -1).every((t) => t === 'retry')).toBe(true);
      if (driver.redelivers) expect(told!.length).toBeGreaterThan(1);
      expect(await letterOf(event.id)).toEqual([{ originalId: event.id, code: 'DEPENDENCY_UNAVAILABLE', message: expect.stringMatching(/unavailable/) }]);
      expect(commits).not.toContain(event.id);
    });

    it("applies one workflow's events in the order delivered, even when the first one has to be retried", async () => {
      const workflowId = await workflow();
      const events = [
        submitted(workflowId, 'first: research AI market trends'),
        submitted(workflowId, 'second: write a report'),
        submitted(workflowId, 'third: create presentation'),
      ];
      failing.set(events[0]!.id, driver.redelivers ? retries + 1 : retries);
      const told = await driver.deliver(events);
      expect(told.map((t) => t.at(-1))).toEqual(['ack', 'ack', 'ack']);
      expect(commits.filter((id) => events.some((e) => e.id === id))).toEqual(events.map((e) => e.id));
      // The plan is the first event's: the later ones found the workflow planned.
      expect(new Set(plannedFor(workflowId))).toEqual(new Set(['first: research AI market trends']));
    });

    it("dead-letters a poison record between two of its workflow's records with its reason, and applies both", async () => {
      const workflowId = await workflow();
      // Keyed by the workflow like the others, so it lands in the same partition (and batch) between them.
      const poison = { ...submitted(workflowId), id: `poison-${randomUUID()}`, data: { workflowId } };
      const events = [submitted(workflowId, 'first: research AI market trends'), poison, submitted(workflowId, 'second: write a report')];
      const told = await driver.deliver(events);
      expect(told.map((t) => t.at(-1))).toEqual(['ack', 'dlq', 'ack']);
      expect(await letterOf(poison.id)).toEqual([{ originalId: poison.id, code: 'INVALID_EVENT', message: expect.stringMatching(/data\.description/) }]);
      expect(commits.filter((id) => id === events[0]!.id || id === events[2]!.id)).toEqual([events[0]!.id, events[2]!.id]);
      expect(await driver.store.getWorkflow(workflowId)).toMatchObject({ status: 'running', plan: expect.any(Object) });
    });

    it("applies two records of one workflow delivered together one after the other, in order, beside another workflow's", async () => {
      const [shared, other] = [await workflow(), await workflow()];
      const events = [submitted(shared, 'first: research AI market trends'), submitted(other), submitted(shared, 'second: write a report')];
      const told = await driver.deliver(events);
      expect(told.map((t) => t.at(-1))).toEqual(['ack', 'ack', 'ack']);
      expect(commits.filter((id) => id === events[0]!.id || id === events[2]!.id)).toEqual([events[0]!.id, events[2]!.id]);
      expect(new Set(plannedFor(shared))).toEqual(new Set(['first: research AI market trends']));
      expect(await driver.store.getWorkflow(other)).toMatchObject({ status: 'running', plan: expect.any(Object) });
    });

    it('loses nothing when the commits of records delivered together all fail once', async () => {
      const ids = [await workflow(), await workflow(), await workflow()];
      const events = ids.map((id) => submitted(id));
      for (const event of events) failing.set(event.id, 1);
      const told = await driver.deliver(events);
      expect(told.map((t) => t.at(-1))).toEqual(['ack', 'ack', 'ack']);
      for (const event of events) expect(commits.filter((id) => id === event.id)).toHaveLength(1);
      for (const id of ids) expect(await driver.store.getWorkflow(id)).toMatchObject({ status: 'running', plan: expect.any(Object) });
      for (const event of events) expect(await letterOf(event.id)).toEqual([]);
    });

    it('dead-letters a non-retriable failure at once, with its reason', async () => {
      const event = submitted(`wf_missing_${randomUUID()}`);
      expect(await driver.deliver([event])).toEqual([['dlq']]);
      expect(await letterOf(event.id)).toEqual([{ originalId: event.id, code: 'NOT_FOUND', message: expect.stringContaining(event.data.workflowId) }]);
    });
  });
}
