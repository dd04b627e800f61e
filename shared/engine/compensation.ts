import { parseWorkKey, subtaskOfLeaseKey } from '../domain/protocol.js';
import type { AgentDirectory, LeaseStore, WorkflowStore } from '../ports/index.js';
import type { Logger } from '../observability/logger.js';

/** What a handler took before its commit: agent slots and subtask leases. */
type Taken = { kind: 'slot'; agentId: string; workKey: string } | { kind: 'lease'; key: string; token: number };

/**
 * Agent slots and leases a handler takes before its commit (assign reserves, dispatch acquires) are
 * the commit's preconditions, not its effects. When the commit does not happen — it conflicted,
 * failed, or found the event already processed — each one the committed state does not hold is
 * given back, so a retry that picks another agent leaves no slot taken forever.
 */
export function trackTaken<P extends { directory: AgentDirectory; leases: LeaseStore }>(
  ports: P,
): { ports: P; giveBack(store: Pick<WorkflowStore, 'getSubtask'>, logger?: Logger): Promise<void> } {
  const taken: Taken[] = [];
  const directory: AgentDirectory = {
    ...ports.directory,
    reserve: async (agentId, workKey) => {
      const reserved = await ports.directory.reserve(agentId, workKey);
      if (reserved) taken.push({ kind: 'slot', agentId, workKey });
      return reserved;
    },
  };
  const leases: LeaseStore = {
    ...ports.leases,
    acquire: async (key, holder, ttlMs) => {
      const lease = await ports.leases.acquire(key, holder, ttlMs);
      if (lease) taken.push({ kind: 'lease', key, token: lease.token });
      return lease;
    },
  };
  // Methods the spread copied keep `this` bound to nothing: adapters are closures, not classes.
  return {
    ports: { ...ports, directory, leases },
    async giveBack(store, logger) {
      for (const item of taken.splice(0).reverse()) {
        try {
          if (await stillHeld(item, store)) continue;
          if (item.kind === 'slot') await ports.directory.release(item.agentId, item.workKey);
          else await ports.leases.release(item.key, item.token);
        } catch (error) {
          // The store or the directory is down: the lease expires by itself; the slot is reconciled when the agent's work is.
          logger?.warn('could not give back what an uncommitted handler took', { ...item, error: error instanceof Error ? error.message : String(error) });
        }
      }
    },
  };
}

/**
 * Whether the committed state holds it: a concurrent delivery of the same event may have committed
 * the very slot (same agent, same work key) or lease (same token) this one took, idempotently.
 */
async function stillHeld(item: Taken, store: Pick<WorkflowStore, 'getSubtask'>): Promise<boolean> {
  if (item.kind === 'lease') {
    const subtask = await store.getSubtask(subtaskOfLeaseKey(item.key));
    return subtask?.status === 'in_progress' && subtask.leaseToken === item.token;
  }
  const { subtaskId, attempt } = parseWorkKey(item.workKey);
  const subtask = await store.getSubtask(subtaskId);
  if (!subtask) return false;
  const waitingForIt = subtask.status === 'ready' && subtask.attempts + 1 === attempt;
  const runningIt = subtask.status === 'in_progress' && subtask.attempts === attempt;
  return subtask.assignedAgent === item.agentId && (waitingForIt || runningIt);
}
