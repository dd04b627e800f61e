import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { createPgliteClient } from '../adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../adapters/sql/workflow-store.sql.js';
import type { AnyCloudEvent } from '../events/envelope.js';
import type { EventBus, WorkflowStore } from '../ports/index.js';
import { silentLogger } from '../observability/logger.js';
import { createOutboxPublisher, OUTBOX_CLAIM_MS } from './outbox-relay.js';

const event = (id: string): AnyCloudEvent => ({ specversion: '1.0', id, source: '/test', type: 'test.happened', time: '2024-05-01T10:00:00.000Z', data: {} });
const message = (id: string) => ({ topic: 'amas.test', key: 'wf', event: event(id) });

describe('OutboxPublisher', () => {
  let store: WorkflowStore;
  afterEach(async () => store.close());

  async function commit(id: string, ...events: string[]) {
    const committed = await store.commitClaimed({ consumer: 'c', eventId: id, outbox: events.map(message) }, OUTBOX_CLAIM_MS);
    if (committed.status !== 'applied') throw new Error('expected applied');
    return committed.outbox;
  }

  it('publishes a commit’s claimed rows in order and marks them published', async () => {
    store = createSqlWorkflowStore(await createPgliteClient());
    await store.migrate();
    const bus = createMemoryEventBus();
    const publisher = createOutboxPublisher(store, bus, silentLogger);
    expect(await publisher.publish(await commit('e1', 'a', 'b'))).toBe(true);
    expect(await publisher.publish(await commit('e2', 'c'))).toBe(true);
    await publisher.flush();
    expect(await store.pendingOutbox(10)).toEqual([]);
    const read = await bus.read('amas.test');
    expect(read.map((d) => (d.value as { id: string }).id)).toEqual(['a', 'b', 'c']);
  });

  it('leaves the rows pending (claimed, for the relay once the claim lapses) when the bus refuses them', async () => {
    store = createSqlWorkflowStore(await createPgliteClient());
    await store.migrate();
    const down: EventBus = { ...createMemoryEventBus(), publish: () => Promise.reject(new Error('broker down')) };
    const publisher = createOutboxPublisher(store, down, silentLogger);
    expect(await publisher.publish(await commit('e1', 'a'))).toBe(false);
    await publisher.flush();
    expect((await store.pendingOutbox(10)).map((r) => r.event.id)).toEqual(['a']);
    // Still claimed: the relay does not race the committer.
    expect(await store.drainOutbox(10, async () => undefined)).toBe(0);
  });
});
