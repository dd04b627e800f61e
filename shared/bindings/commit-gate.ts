import type { WorkflowStore } from '../ports/index.js';

/** How long commits that reached the gate wait for the batch's other records at most (one in a retry back-off, say). */
export const COMMIT_GATE_MAX_WAIT_MS = 20;

/**
 * Holds the commits of a batch's records until every record still running has reached its commit
 * or finished, then lets them go in one turn of the event loop: a store that groups concurrent
 * commits (DATABASE_GROUP_COMMIT) sends them as one amas_commit_set, and changes that touch the same
 * rows it commits one after the other, in call order. Records enter before they start and leave
 * when they are decided.
 */
export function createCommitGate(store: WorkflowStore, maxWaitMs = COMMIT_GATE_MAX_WAIT_MS) {
  let running = 0;
  let waiting: (() => void)[] = [];
  let timer: NodeJS.Timeout | undefined;

  const release = (): void => {
    clearTimeout(timer);
    timer = undefined;
    const go = waiting;
    waiting = [];
    for (const proceed of go) proceed();
  };
  const releaseIfAllArrived = (): void => {
    if (waiting.length > 0 && waiting.length >= running) release();
  };
  const arrive = (): Promise<void> =>
    new Promise((resolve) => {
      waiting.push(resolve);
      timer ??= setTimeout(release, maxWaitMs);
      releaseIfAllArrived();
    });

  const gated: WorkflowStore = {
    ...store,
    commit: async (change) => (await arrive(), store.commit(change)),
    commitClaimed: async (change, claimMs) => (await arrive(), store.commitClaimed(change, claimMs)),
  };
  return {
    store: gated,
    enter(): void {
      running += 1;
    },
    leave(): void {
      running -= 1;
      releaseIfAllArrived();
    },
  };
}
