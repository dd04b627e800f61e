import { isDriverConnectionError } from '../adapters/resilient.js';
import { isDependencyFailure } from '../circuit-breaker.js';

export interface Read<T> {
  value: T;
  /** Set when the dependency was down and the answer is the last one read (epoch ms of that read). */
  staleSince?: number;
}

/**
 * ORCHESTRATION_GRACEFUL_DEGRADATION: while a dependency (PostgreSQL, Neo4j) is unavailable, a
 * read it cannot answer is served from the last answer this process read for the same key, marked
 * stale, instead of failing. Only reads: nothing is ever written from here. Bounded (least recently
 * read first out) so a long outage cannot grow memory. Off: every read goes to the dependency.
 */
export function createLastKnownReads(options: { enabled: boolean; now: () => number; capacity?: number }) {
  const capacity = options.capacity ?? 1_000;
  const lastKnown = new Map<string, { value: unknown; at: number }>();

  const remember = (key: string, value: unknown) => {
    lastKnown.delete(key);
    lastKnown.set(key, { value, at: options.now() });
    if (lastKnown.size > capacity) lastKnown.delete(lastKnown.keys().next().value as string);
  };

  return {
    async read<T>(key: string, load: () => Promise<T>): Promise<Read<T>> {
      try {
        const value = await load();
        if (options.enabled) remember(key, value);
        return { value };
      } catch (error) {
        const known = options.enabled && isUnavailable(error) ? lastKnown.get(key) : undefined;
        if (!known) throw error;
        return { value: known.value as T, staleSince: known.at };
      }
    },
  };
}
// Neo4j's driver names an unreachable or restarting server by these codes.
const neo4jUnavailable = new Set(['ServiceUnavailable', 'SessionExpired']);

/** The dependency did not answer (as opposed to answering with an error of ours, such as not found). */
export function isUnavailable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return isDependencyFailure(error) || isDriverConnectionError(error) || (typeof code === 'string' && neo4jUnavailable.has(code));
}

export type LastKnownReads = ReturnType<typeof createLastKnownReads>;
