import { describe, expect, it } from 'vitest';
import { createMemoryAgentDirectory } from '../../shared/adapters/memory/agent-directory.memory.js';
import { NotFoundError } from '../../shared/errors.js';
import { agentDirectoryContract } from './agent-directory.contract.js';

agentDirectoryContract('memory', async () => {
  const subject = createMemoryAgentDirectory({});
  return { subject, cleanup: () => subject.close() };
});

describe('memory agent directory specifics', () => {
  const registration = { id: 'a', layer: 'SPECIALIST' as const, specialties: ['data_analyst' as const], capacity: 5, demo: true };

  it('caps capacity at maxTasksPerAgent', async () => {
    const directory = createMemoryAgentDirectory({ maxTasksPerAgent: 2 });
    await directory.register(registration, 0);
    expect(await directory.reserve('a', 'w1')).toBe(true);
    expect(await directory.reserve('a', 'w2')).toBe(true);
    expect(await directory.reserve('a', 'w3')).toBe(false);
    expect((await directory.get('a'))!.status).toBe('OVERLOADED');
    expect((await directory.hierarchyStatus(0, 1_000)).pools.analysis.capacity).toBe(2);
  });

  it('keeps the track record and reservations when an agent registers again', async () => {
    const directory = createMemoryAgentDirectory({});
    await directory.register(registration, 0);
    await directory.reserve('a', 'w1');
    await directory.release('a', 'w0', { success: true, quality: 1, durationMs: 10 });
    const again = await directory.register({ ...registration, capacity: 3 }, 50);
    expect(again).toMatchObject({ capacity: 3, load: 1, completed: 1, registeredAt: 0, lastHeartbeat: 50, status: 'BUSY' });
  });

  it('returns copies and rejects heartbeats of unknown agents', async () => {
    const directory = createMemoryAgentDirectory({});
    const record = await directory.register(registration, 0);
    record.specialties.push('security_analyst');
    expect((await directory.get('a'))!.specialties).toEqual(['data_analyst']);
    await expect(directory.heartbeat('nobody', 1)).rejects.toBeInstanceOf(NotFoundError);
    await expect(directory.release('nobody', 'w')).resolves.toBeUndefined();
  });

  it('counts a stale heartbeat as degraded, a fresh one as healthy', async () => {
    const directory = createMemoryAgentDirectory({});
    await directory.register(registration, 0);
    expect((await directory.hierarchyStatus(2_000, 1_000)).health.degraded).toBe(1);
    await directory.heartbeat('a', 1_900);
    expect((await directory.hierarchyStatus(2_000, 1_000)).health.healthy).toBe(1);
  });
});
