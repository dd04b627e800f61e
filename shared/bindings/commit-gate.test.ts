import { describe, expect, it } from 'vitest';
import type { StateChange, WorkflowStore } from '../ports/index.js';
import { createCommitGate } from './commit-gate.js';

const change = (eventId: string): StateChange => ({ consumer: 'decompose', eventId });

function recordingStore(): { store: WorkflowStore; committed: string[] } {
  const committed: string[] = [];
  const store = {
    commit: async (c: StateChange) => (committed.push(c.eventId), 'applied' as const),
    commitClaimed: async (c: StateChange) => (committed.push(c.eventId), { status: 'applied' as const, outbox: [] }),
  } as unknown as WorkflowStore;
  return { store, committed };
}

const turn = () => new Promise((resolve) => setImmediate(resolve));

describe('createCommitGate', () => {
  it('holds commits until every running record has reached its commit or finished, then lets them go together', async () => {
    const { store, committed } = recordingStore();
    const gate = createCommitGate(store, 10_000);
    gate.enter();
    gate.enter();
    gate.enter();
    const a = gate.store.commitClaimed(change('a'), 1);
    const b = gate.store.commit(change('b'));
    await turn();
    expect(committed).toEqual([]);
    gate.leave();
    await Promise.all([a, b]);
    expect(committed).toEqual(['a', 'b']);
  });

  it('lets waiting commits go after the maximum wait when a record is still running', async () => {
    const { store, committed } = recordingStore();
    const gate = createCommitGate(store, 20);
    gate.enter();
    gate.enter();
    await gate.store.commit(change('a'));
    expect(committed).toEqual(['a']);
  });
});
