import type { AgentRecord } from '../../ports/agent-directory.port.js';

/** A record with the node's `rev`, which every write to the agent node increments. */
export interface Versioned {
  rev: number;
  record: AgentRecord;
}

export interface CandidateCacheOptions {
  /** How old a list may be when served. */
  ttlMs: number;
  now?: () => number;
}

interface List {
  ids: string[];
  at: number;
  refreshing?: Promise<unknown>;
}

/**
 * A short-lived read cache of id lists (a specialty's candidates, a group's lead) over one map of
 * agent records. Records are replaced only by a higher `rev`, whether it comes from a read or
 * from the answer of this process's own write, so an answer that arrives late never rolls one
 * back. A list is refreshed in the background once half its TTL has passed and is never served
 * past its TTL; `register` and `clear` drop every list (a new agent may belong to any of them).
 */
export function createCandidateCache(options: CandidateCacheOptions) {
  const now = options.now ?? (() => performance.now());
  const records = new Map<string, Versioned>();
  const lists = new Map<string, List>();
  let generation = 0;

  const observe = (row: Versioned): void => {
    const known = records.get(row.record.id);
    if (!known || row.rev >= known.rev) records.set(row.record.id, row);
  };

  // A list's age counts from when its fetch started: what it read is at least that old.
  async function load(key: string, fetch: () => Promise<Versioned[]>): Promise<Versioned[]> {
    const startedIn = generation;
    const at = now();
    const rows = await fetch();
    for (const row of rows) observe(row);
    // A fetch that started before an invalidation may miss what the invalidation was for.
    if (startedIn === generation) lists.set(key, { ids: rows.map((r) => r.record.id), at });
    return rows;
  }

  return {
    /**
     * The list under `key`: from the cache while younger than the TTL and `usable` (for candidates:
     * someone in it looks free), else fetched. Past half the TTL a hit also starts a refresh.
     */
    async read(key: string, fetch: () => Promise<Versioned[]>, usable: (records: AgentRecord[]) => boolean = () => true): Promise<AgentRecord[]> {
      const list = lists.get(key);
      const age = list ? now() - list.at : Infinity;
      if (list && age < options.ttlMs) {
        const cached = list.ids.map((id) => records.get(id)!.record);
        if (usable(cached)) {
          if (age >= options.ttlMs / 2 && !list.refreshing) {
            list.refreshing = load(key, fetch)
              .catch(() => undefined)
              .finally(() => delete list.refreshing);
          }
          return cached;
        }
      }
      const rows = await load(key, fetch);
      return rows.map((row) => records.get(row.record.id)!.record);
    },
    /** The answer of a write to one agent: patches that agent in every list holding it. */
    observe,
    /** Every list goes; records stay (their revs still order later answers). */
    invalidate(): void {
      generation += 1;
      lists.clear();
    },
    clear(): void {
      generation += 1;
      lists.clear();
      records.clear();
    },
  };
}
export type CandidateCache = ReturnType<typeof createCandidateCache>;

/**
 * ORCHESTRATION_ENABLE_CACHE as directory options. TTL: 1 s, or one heartbeat interval when that is
 * shorter: a cached heartbeat is then at most two intervals old, inside the three-interval timeout,
 * so the cache never makes a live agent look lost; and never a lost one alive (a cached heartbeat is
 * older than the real one, not newer). The timeout lets the directory re-read a list whose
 * free-looking agents all look lost, instead of serving it until it expires.
 */
export const directoryCacheOptions = (config: { ORCHESTRATION_ENABLE_CACHE: boolean; ORCHESTRATION_HEARTBEAT_INTERVAL: number }) =>
  config.ORCHESTRATION_ENABLE_CACHE
    ? { cacheTtlMs: Math.min(1_000, config.ORCHESTRATION_HEARTBEAT_INTERVAL * 1_000), cacheHeartbeatTimeoutMs: config.ORCHESTRATION_HEARTBEAT_INTERVAL * 3_000 }
    : {};
