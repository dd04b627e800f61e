import { describe, expect, it } from 'vitest';
import { createManualClock, systemClock } from '../../shared/adapters/memory/clock.system.js';
import { createMemoryLeaseStore } from '../../shared/adapters/memory/lease-store.memory.js';
import { leaseStoreContract } from './lease-store.contract.js';

leaseStoreContract('memory', async () => {
  const subject = createMemoryLeaseStore(systemClock);
  return { subject, cleanup: () => subject.close() };
});

describe('memory lease store on a manual clock', () => {
  it('expires exactly at expiresAt and lists the oldest first', async () => {
    const clock = createManualClock(1_000);
    const leases = createMemoryLeaseStore(clock);
    await leases.acquire('b', 'h', 200);
    await leases.acquire('a', 'h', 100);
    clock.advance(99);
    expect(await leases.listExpired(clock.now(), 10)).toEqual([]);
    expect(await leases.acquire('a', 'other', 100)).toBeNull();
    clock.advance(1);
    expect((await leases.listExpired(clock.now(), 10)).map((l) => l.key)).toEqual(['a']);
    expect(await leases.acquire('a', 'other', 150)).toMatchObject({ token: 2, holder: 'other', expiresAt: 1_250 });
    clock.advance(200);
    expect((await leases.listExpired(clock.now(), 10)).map((l) => [l.key, l.token])).toEqual([
      ['b', 1],
      ['a', 2],
    ]);
  });

  it('gives the same holder a new token once its own lease expired', async () => {
    const clock = createManualClock(0);
    const leases = createMemoryLeaseStore(clock);
    const first = await leases.acquire('k', 'h', 10);
    clock.advance(10);
    expect((await leases.acquire('k', 'h', 10))!.token).toBe(first!.token + 1);
  });

  it('returns copies that callers cannot corrupt', async () => {
    const leases = createMemoryLeaseStore(createManualClock(0));
    const lease = await leases.acquire('k', 'h', 10);
    lease!.token = 99;
    expect((await leases.get('k'))!.token).toBe(1);
  });
});
