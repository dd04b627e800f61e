import { randomUUID } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { LeaseStore } from '../../shared/ports/lease-store.port.js';

const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
/** Short enough to wait out, long enough for a network round trip. */
const SHORT_TTL = 100;
const EXPIRY_WAIT = 300;
const LONG_TTL = 10_000;

/**
 * The behaviour every LeaseStore adapter must show, in real time: `make` returns a store on the
 * system clock (or the server's), possibly shared between tests — keys and holders are unique per
 * test. An expired lease stays visible to get() and listExpired() until released or taken over.
 */
export function leaseStoreContract(name: string, make: () => Promise<{ subject: LeaseStore; cleanup: () => Promise<void> }>): void {
  describe(`LeaseStore contract: ${name}`, () => {
    let leases: LeaseStore;
    let cleanup: () => Promise<void>;
    let key: (label: string) => string;
    let holder: (label: string) => string;
    let suffix: string;

    beforeEach(async () => {
      ({ subject: leases, cleanup } = await make());
      suffix = randomUUID().slice(0, 8);
      key = (label) => `contract:${label}:${suffix}`;
      holder = (label) => `holder-${label}-${suffix}`;
    });
    afterEach(async () => {
      await cleanup();
    });

    it('never reuses a token: acquire, release, acquire gives a larger one', async () => {
      const first = await leases.acquire(key('a'), holder('1'), LONG_TTL);
      expect(first).toMatchObject({ key: key('a'), holder: holder('1') });
      expect(first!.token).toBeGreaterThanOrEqual(1);
      expect(await leases.release(key('a'), first!.token)).toBe(true);
      expect(await leases.get(key('a'))).toBeNull();
      const second = await leases.acquire(key('a'), holder('1'), LONG_TTL);
      expect(second!.token).toBeGreaterThan(first!.token);
    });

    it('re-acquiring a live lease one holds keeps its token and extends it', async () => {
      const first = await leases.acquire(key('a'), holder('1'), 1_000);
      await pause(20);
      const again = await leases.acquire(key('a'), holder('1'), LONG_TTL);
      expect(again!.token).toBe(first!.token);
      expect(again!.expiresAt).toBeGreaterThan(first!.expiresAt);
      expect(await leases.get(key('a'))).toEqual(again);
    });

    it('refuses another holder while the lease is live', async () => {
      await leases.acquire(key('a'), holder('1'), LONG_TTL);
      expect(await leases.acquire(key('a'), holder('2'), LONG_TTL)).toBeNull();
      expect((await leases.get(key('a')))!.holder).toBe(holder('1'));
    });

    it('lets another holder take over after expiry, with a larger token', async () => {
      const first = await leases.acquire(key('a'), holder('1'), SHORT_TTL);
      await pause(EXPIRY_WAIT);
      const taken = await leases.acquire(key('a'), holder('2'), LONG_TTL);
      expect(taken).toMatchObject({ holder: holder('2') });
      expect(taken!.token).toBeGreaterThan(first!.token);
      expect(await leases.renew(key('a'), first!.token, LONG_TTL)).toBe(false);
    });

    it('renews with the current token only, and not once expired', async () => {
      const lease = await leases.acquire(key('a'), holder('1'), 1_000);
      await pause(20);
      expect(await leases.renew(key('a'), lease!.token, LONG_TTL)).toBe(true);
      expect((await leases.get(key('a')))!.expiresAt).toBeGreaterThan(lease!.expiresAt);
      expect(await leases.renew(key('a'), lease!.token + 1, LONG_TTL)).toBe(false);
      expect(await leases.renew(key('missing'), 1, LONG_TTL)).toBe(false);
      const short = await leases.acquire(key('b'), holder('1'), SHORT_TTL);
      await pause(EXPIRY_WAIT);
      expect(await leases.renew(key('b'), short!.token, LONG_TTL)).toBe(false);
    });

    it('reclaims only a lease it has no record of, with a token above every one it handed out', async () => {
      // Never seen: taken with the token given, and held like any lease.
      expect(await leases.reclaim(key('a'), holder('1'), 5_000, LONG_TTL)).toBe(true);
      expect(await leases.get(key('a'))).toMatchObject({ key: key('a'), holder: holder('1'), token: 5_000 });
      expect(await leases.acquire(key('a'), holder('2'), LONG_TTL)).toBeNull();
      expect(await leases.renew(key('a'), 5_000, LONG_TTL)).toBe(true);
      // A lease, live or expired, is never reclaimed: it belongs to its holder, or to recovery.
      expect(await leases.reclaim(key('a'), holder('2'), 6_000, LONG_TTL)).toBe(false);
      const short = await leases.acquire(key('b'), holder('1'), SHORT_TTL);
      await pause(EXPIRY_WAIT);
      expect(await leases.reclaim(key('b'), holder('1'), short!.token, LONG_TTL)).toBe(false);
      // Released: the store remembers the token, so neither it nor an older one comes back.
      expect(await leases.release(key('a'), 5_000)).toBe(true);
      expect(await leases.reclaim(key('a'), holder('1'), 5_000, LONG_TTL)).toBe(false);
      expect(await leases.reclaim(key('a'), holder('1'), 4_999, LONG_TTL)).toBe(false);
      // The next acquire hands out a token above the reclaimed one.
      expect((await leases.acquire(key('a'), holder('2'), LONG_TTL))!.token).toBeGreaterThan(5_000);
    });

    it('ignores a release with a stale token', async () => {
      const first = await leases.acquire(key('a'), holder('1'), SHORT_TTL);
      await pause(EXPIRY_WAIT);
      const second = await leases.acquire(key('a'), holder('2'), LONG_TTL);
      expect(await leases.release(key('a'), first!.token)).toBe(false);
      expect(await leases.get(key('a'))).toEqual(second);
      expect(await leases.release(key('a'), second!.token)).toBe(true);
      expect(await leases.release(key('a'), second!.token)).toBe(false);
    });

    it('renewHolder extends every live lease of the holder and counts them', async () => {
      const a = await leases.acquire(key('a'), holder('1'), 1_000);
      await leases.acquire(key('b'), holder('1'), 1_000);
      await leases.acquire(key('c'), holder('2'), 1_000);
      await leases.acquire(key('d'), holder('1'), SHORT_TTL);
      await pause(EXPIRY_WAIT);
      expect(await leases.renewHolder(holder('1'), LONG_TTL)).toBe(2);
      expect((await leases.get(key('a')))!.expiresAt).toBeGreaterThan(a!.expiresAt);
      expect(await leases.renew(key('d'), 1, LONG_TTL)).toBe(false);
      expect(await leases.renewHolder(holder('nobody'), LONG_TTL)).toBe(0);
    });

    it('lists expired leases until they are released or taken over', async () => {
      const a = await leases.acquire(key('a'), holder('1'), SHORT_TTL);
      await leases.acquire(key('b'), holder('1'), SHORT_TTL);
      await leases.acquire(key('c'), holder('1'), SHORT_TTL);
      await leases.acquire(key('live'), holder('1'), LONG_TTL);
      await pause(EXPIRY_WAIT);
      const mine = async () =>
        (await leases.listExpired(Date.now(), 10_000))
          .map((l) => l.key)
          .filter((k) => k.endsWith(suffix))
          .sort();
      expect(await mine()).toEqual([key('a'), key('b'), key('c')]);
      expect(await leases.get(key('a'))).toMatchObject({ holder: holder('1'), token: a!.token });
      expect(await leases.listExpired(Date.now(), 1)).toHaveLength(1);
      expect(await leases.release(key('a'), a!.token)).toBe(true);
      await leases.acquire(key('b'), holder('2'), LONG_TTL);
      expect(await mine()).toEqual([key('c')]);
    });
  });
}
