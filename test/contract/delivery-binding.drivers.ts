import { randomUUID } from 'node:crypto';
import type { Server } from 'node:http';
import { createMemoryAgentDirectory } from '../../shared/adapters/memory/agent-directory.memory.js';
import { systemClock } from '../../shared/adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../../shared/adapters/memory/event-bus.memory.js';
import { createMemoryLeaseStore } from '../../shared/adapters/memory/lease-store.memory.js';
import { functionSubscriptions } from '../../shared/events/index.js';
import type { AnyCloudEvent } from '../../shared/events/envelope.js';
import type { EventBus, WorkflowStore } from '../../shared/ports/index.js';
import { createFunctionHttpApp } from '../../shared/bindings/function-http.js';
import { createSqsHandler, type SqsEvent } from '../../shared/bindings/lambda-sqs.js';
import { silentLogger } from '../../shared/observability/logger.js';
import { startRuntime, type Runtime } from '../../shared/runtime/runtime.js';
import { keyOfValue, lettersOn, type BindingDriver, type BindingSetup, type DeadLetterSeen, type Told } from './delivery-binding.contract.js';
import { waitFor } from './event-bus.contract.js';

const { topic, groupId } = functionSubscriptions.decompose;

async function runtimeOn(setup: BindingSetup, bus: EventBus, store: WorkflowStore, consumers: boolean): Promise<Runtime> {
  return startRuntime({
    config: setup.config,
    adapters: {
      bus,
      store,
      leases: createMemoryLeaseStore(systemClock),
      directory: createMemoryAgentDirectory({ maxTasksPerAgent: 3 }),
      planner: setup.planner,
    },
    logger: silentLogger,
    functions: consumers ? ['decompose'] : [],
    demoAgents: false,
    recovery: false,
    messaging: false,
  });
}

/**
 * A log (Kafka, or the in-process log) and the decompose consumer group on it: the values are
 * published under their workflow's key; settled once the group has committed past them. The log
 * never redelivers, so what it was told is an ack, after a dead letter or not. With `closeAdapters`
 * (the suites that open a broker and a PostgreSQL pool for it), close() also closes the bus and then
 * the store, after the runtime has stopped.
 */
export async function logDriver(
  setup: BindingSetup,
  bus: EventBus,
  baseStore: WorkflowStore,
  options: { closeAdapters?: boolean } = {},
): Promise<BindingDriver> {
  const store = setup.wrap(baseStore);
  const runtime = await runtimeOn(setup, bus, store, true);
  return {
    redelivers: false,
    store,
    async deliver(values) {
      // One produce request, as a burst arrives: a consumer that batches gets them together.
      await bus.publish(
        topic,
        values.map((value) => ({ key: keyOfValue(value), event: value as AnyCloudEvent })),
      );
      await waitFor(async () => (await bus.lag(groupId, topic)) === 0, 30_000, 'the decompose group to commit the records');
      const letters = await lettersOn(bus, topic);
      return values.map((value): Told[] => [letters.some((l) => l.originalId === value.id) ? 'dlq' : 'ack']);
    },
    deadLetters: () => lettersOn(bus, topic),
    async close() {
      await runtime.stop();
      if (!options.closeAdapters) return;
      await bus.close();
      await baseStore.close();
    },
  };
}

/** Knative's delivery spec in k8s/knative (retry: 3): the first delivery and three more, then the dead-letter sink. */
const knativeRetries = 3;

/**
 * The Knative binding over a real express listener, delivered to as a KafkaSource with ordered
 * delivery does: one event at a time, a 503 delivered again, a 400 or the last failure sent to the
 * dead-letter sink with the response body as its reason (knativeerrordata).
 */
export async function knativeDriver(setup: BindingSetup, baseStore: WorkflowStore): Promise<BindingDriver> {
  const store = setup.wrap(baseStore);
  const runtime = await runtimeOn(setup, createMemoryEventBus(), store, false);
  const server: Server = await new Promise((resolve) => {
    const listening = createFunctionHttpApp('decompose', runtime).listen(0, '127.0.0.1', () => resolve(listening));
  });
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/`;
  const sink: DeadLetterSeen[] = [];
  return {
    redelivers: true,
    store,
    async deliver(values) {
      const told: Told[][] = [];
      for (const value of values) {
        const answers: Told[] = [];
        for (let attempt = 0; ; attempt++) {
          const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/cloudevents+json' }, body: JSON.stringify(value) });
          const body = (await res.json()) as { code?: string; message?: string };
          if (res.status === 200) answers.push('ack');
          else if (res.status === 503) {
            answers.push('retry');
            if (!res.headers.get('retry-after')) throw new Error('a 503 without Retry-After');
            if (attempt < knativeRetries) continue;
          }
          if (res.status !== 200) {
            answers.push('dlq');
            sink.push({ originalId: value.id, code: body.code ?? '', message: body.message ?? '' });
          }
          break;
        }
        told.push(answers);
      }
      return told;
    },
    deadLetters: async () => [...sink],
    async close() {
      server.close();
      await runtime.stop();
    },
  };
}

/** The queue's redrive maxReceiveCount in this test. */
const maxReceiveCount = 3;

/**
 * The Lambda binding fed as an SQS FIFO event source mapping does: one batch of every record
 * waiting, each record's receive count, the batch item failures delivered again in order; a record
 * failing on its last receive would be moved by the redrive policy without a reason. Dead letters
 * the handler publishes go through the runtime's bus to `<topic>.dlq`.
 */
export async function sqsDriver(setup: BindingSetup, baseStore: WorkflowStore): Promise<BindingDriver> {
  const store = setup.wrap(baseStore);
  const bus = createMemoryEventBus();
  const runtime = await runtimeOn(setup, bus, store, false);
  const handler = createSqsHandler('decompose', async () => runtime, { maxReceiveCount });
  const redriven: DeadLetterSeen[] = [];
  return {
    redelivers: true,
    store,
    async deliver(values) {
      const told: Told[][] = values.map(() => []);
      let waiting = values.map((value, index) => ({ index, value, receives: 1, record: { messageId: randomUUID(), body: JSON.stringify(value) } }));
      while (waiting.length > 0) {
        const batch: SqsEvent = {
          Records: waiting.map((w) => ({ ...w.record, attributes: { ApproximateReceiveCount: String(w.receives), MessageGroupId: keyOfValue(w.value) } })),
        };
        const failed = new Set((await handler(batch)).batchItemFailures.map((f) => f.itemIdentifier));
        const letters = await lettersOn(bus, topic);
        const again: typeof waiting = [];
        for (const w of waiting) {
          if (!failed.has(w.record.messageId)) {
            told[w.index]!.push(letters.some((l) => l.originalId === w.value.id) ? 'dlq' : 'ack');
            continue;
          }
          told[w.index]!.push('retry');
          if (w.receives < maxReceiveCount) again.push({ ...w, receives: w.receives + 1 });
          else {
            told[w.index]!.push('dlq');
            redriven.push({ originalId: w.value.id, code: 'REDRIVEN', message: 'moved by the redrive policy, no reason given' });
          }
        }
        waiting = again;
      }
      return told;
    },
    deadLetters: async () => [...(await lettersOn(bus, topic)), ...redriven],
    close: () => runtime.stop(),
  };
}
