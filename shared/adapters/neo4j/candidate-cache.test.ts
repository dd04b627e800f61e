import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../ports/agent-directory.port.js';
import { createCandidateCache, type Versioned } from './candidate-cache.js';

const record = (id: string, extra: Partial<AgentRecord> = {}): AgentRecord => ({
  id,
  layer: 'SPECIALIST',
  specialties: ['data_analyst'],
  capacity: 2,
  demo: false,
  status: 'AVAILABLE',
  load: 0,
  completed: 0,
  failed: 0,
  consecutiveFailures: 0,
  averageQuality: 0,
  averageDurationMs: 0,
  lastHeartbeat: 0,
  registeredAt: 0,
  ...extra,
});

function setup(ttlMs = 1_000) {
  let clock = 0;
  let rows: Versioned[] = [
    { rev: 1, record: record('a') },
    { rev: 1, record: record('b') },
  ];
  let fetches = 0;
  let gate: Promise<void> | undefined;
  const fetch = async () => {
    fetches += 1;
    const answer = rows;
    if (gate) await gate;
    return answer;
  };
  const cache = createCandidateCache({ ttlMs, now: () => clock });
  return {
    cache,
    fetch,
    advance: (ms: number) => void (clock += ms),
    setRows: (next: Versioned[]) => void (rows = next),
    hold: () => {
      let open!: () => void;
      gate = new Promise<void>((resolve) => (open = resolve));
      return () => {
        gate = undefined;
        open();
      };
    },
    fetches: () => fetches,
  };
}

const ids = (records: AgentRecord[]) => records.map((r) => r.id);
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('candidate cache', () => {
  it('serves a list while younger than the TTL, refreshes it in the background past half, and never serves it past the TTL', async () => {
    const t = setup();
    expect(ids(await t.cache.read('k', t.fetch))).toEqual(['a', 'b']);
    t.setRows([
      { rev: 1, record: record('a') },
      { rev: 1, record: record('b') },
      { rev: 1, record: record('c') },
    ]);
    t.advance(400);
    expect(ids(await t.cache.read('k', t.fetch))).toEqual(['a', 'b']);
    expect(t.fetches()).toBe(1);
    t.advance(200);
    expect(ids(await t.cache.read('k', t.fetch))).toEqual(['a', 'b']); // stale but within the TTL; a refresh started
    await settle();
    expect(t.fetches()).toBe(2);
    expect(ids(await t.cache.read('k', t.fetch))).toEqual(['a', 'b', 'c']);
    t.setRows([{ rev: 1, record: record('d') }]);
    t.advance(1_000);
    expect(ids(await t.cache.read('k', t.fetch))).toEqual(['d']);
    expect(t.fetches()).toBe(3);
  });

  it("applies its own writes' answers at once and ignores an answer older than what it holds", async () => {
    const t = setup();
    await t.cache.read('k', t.fetch);
    t.cache.observe({ rev: 3, record: record('a', { load: 2, status: 'OVERLOADED' }) });
    t.cache.observe({ rev: 2, record: record('a', { load: 1, status: 'BUSY' }) }); // a late answer to an earlier write
    expect((await t.cache.read('k', t.fetch))[0]).toMatchObject({ id: 'a', load: 2, status: 'OVERLOADED' });
    // A read that started before the write and comes back after it does not roll it back either.
    t.advance(1_000);
    expect((await t.cache.read('k', t.fetch))[0]).toMatchObject({ id: 'a', load: 2 });
  });

  it('re-reads a list in which nobody looks usable', async () => {
    const t = setup();
    const free = (records: AgentRecord[]) => records.some((r) => r.status === 'AVAILABLE');
    await t.cache.read('k', t.fetch, free);
    t.cache.observe({ rev: 2, record: record('a', { status: 'OVERLOADED' }) });
    t.cache.observe({ rev: 2, record: record('b', { status: 'OVERLOADED' }) });
    t.setRows([
      { rev: 3, record: record('a') },
      { rev: 3, record: record('b', { status: 'OVERLOADED' }) },
    ]);
    expect((await t.cache.read('k', t.fetch, free)).map((r) => r.status)).toEqual(['AVAILABLE', 'OVERLOADED']);
    expect(t.fetches()).toBe(2);
  });

  it('does not install a list fetched across an invalidation', async () => {
    const t = setup();
    const open = t.hold();
    const reading = t.cache.read('k', t.fetch);
    t.cache.invalidate();
    open();
    expect(ids(await reading)).toEqual(['a', 'b']);
    t.setRows([
      { rev: 1, record: record('a') },
      { rev: 1, record: record('b') },
      { rev: 1, record: record('new') },
    ]);
    expect(ids(await t.cache.read('k', t.fetch))).toEqual(['a', 'b', 'new']);
    expect(t.fetches()).toBe(2);
  });
});
