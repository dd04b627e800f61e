import type { AgentDirectory, Effect, LeaseStore, StateChange, WorkflowStore } from '../ports/index.js';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

export interface EffectPorts {
  leases: Pick<LeaseStore, 'release'>;
  directory: Pick<AgentDirectory, 'release' | 'recordWork'>;
}

export interface EffectObservers {
  logger?: Logger;
  metrics?: Pick<Metrics, 'effectsFailed'>;
}

/**
 * Runs the effects of an applied commit, in order. One that fails is logged and counted, and the
 * rest still run: the commit stands, so retrying the event would find it processed and change
 * nothing. A lease a failed release left held expires by itself.
 */
export async function runEffects(effects: readonly Effect[] | undefined, ports: EffectPorts, observers: EffectObservers = {}): Promise<number> {
  let failed = 0;
  for (const effect of effects ?? []) {
    try {
      await run(effect, ports);
    } catch (error) {
      failed += 1;
      observers.metrics?.effectsFailed.inc({ effect: effect.kind });
      observers.logger?.warn('a post-commit effect failed', { ...describe(effect), error: error instanceof Error ? error.message : String(error) });
    }
  }
  return failed;
}

/** Commits a handler's change outside processEvent (the API's commands) and, only if it applied, runs its effects. */
export async function commitWithEffects(
  change: StateChange,
  effects: readonly Effect[] | undefined,
  ports: EffectPorts & { store: Pick<WorkflowStore, 'commit'> },
  observers: EffectObservers = {},
): Promise<'applied' | 'duplicate'> {
  const status = await ports.store.commit(change);
  if (status === 'applied') await runEffects(effects, ports, observers);
  return status;
}

async function run(effect: Effect, { leases, directory }: EffectPorts): Promise<void> {
  switch (effect.kind) {
    case 'releaseLease':
      await leases.release(effect.key, effect.token);
      return;
    case 'releaseSlot':
      await directory.release(effect.agentId, effect.workKey, effect.outcome);
      return;
    case 'recordWork':
      await directory.recordWork?.(effect.agentId, effect.subtaskId, effect.workflowId, effect.outcome, effect.at, effect.lineage);
      return;
  }
}

/** The log line's fields: what the effect was about, without the outcome's numbers. */
function describe(effect: Effect): Record<string, unknown> {
  if (effect.kind === 'releaseLease') return { effect: effect.kind, key: effect.key, token: effect.token };
  if (effect.kind === 'releaseSlot') return { effect: effect.kind, agentId: effect.agentId, workKey: effect.workKey };
  return { effect: effect.kind, agentId: effect.agentId, subtaskId: effect.subtaskId, workflowId: effect.workflowId };
}
