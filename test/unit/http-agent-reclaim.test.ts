import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemClock } from '../../shared/adapters/memory/clock.system.js';
import type { AgentWorkItem } from '../../shared/api/agents.js';
import { allSpecialties } from '../../shared/domain/vocabulary.js';
import { leaseKeyOf } from '../../shared/domain/protocol.js';
import { forgetfulLeaseStore } from './helpers/forgetful-leases.js';
import { startEmbedded, type Embedded } from './helpers/embedded.js';

const leases = forgetfulLeaseStore(systemClock);
let api: Embedded;

beforeAll(async () => {
  // No demo specialists, pools of one: the work can only go to the HTTP agent below.
  api = await startEmbedded(
    { ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: '0', ORCHESTRATION_MAX_AGENTS_PER_POOL: '1', ORCHESTRATION_LEASE_TTL_SECONDS: '3' },
    {},
    undefined,
    { leases },
  );
}, 60_000);
afterAll(async () => api?.stop());

describe('a remote HTTP agent after the lease store lost its memory (a Redis restart)', () => {
  it('takes back the lease of its work in hand by renewing it, and only its own, under its token', async () => {
    for (const agentId of ['http-holder', 'http-other']) {
      expect((await api.post('/v1/agents/register', { agentId, specialties: [...allSpecialties], capacity: 1 })).status).toBe(201);
    }
    expect((await api.post('/v1/tasks', { description: 'Research the market for electric bikes and write a report' })).status).toBe(202);
    // Whichever of the two agents was given the first subtask holds it.
    let holder = '';
    let held: AgentWorkItem | undefined;
    for (const agentId of ['http-holder', 'http-other']) {
      const { body } = await api.get<{ work: AgentWorkItem[] }>(`/v1/agents/${agentId}/work?waitMs=15000`);
      [holder, held] = [agentId, body.work[0]];
      if (held) break;
    }
    expect(held).toBeDefined();
    const other = holder === 'http-holder' ? 'http-other' : 'http-holder';
    const key = leaseKeyOf(held!.subtaskId);
    const working = (leaseToken: number) => ({ working: [{ subtaskId: held!.subtaskId, leaseToken }] });

    leases.forget();
    expect(await leases.get(key)).toBeNull();
    // Not another agent, nor the holder under another token: the workflow store says whose work it is.
    expect((await api.post(`/v1/agents/${other}/leases`, working(held!.leaseToken))).body).toMatchObject({ renewed: [], lost: [held!.subtaskId] });
    expect((await api.post(`/v1/agents/${holder}/leases`, working(held!.leaseToken + 1))).body).toMatchObject({ renewed: [], lost: [held!.subtaskId] });
    expect(await leases.get(key)).toBeNull();
    expect((await api.post(`/v1/agents/${holder}/leases`, working(held!.leaseToken))).body).toMatchObject({ renewed: [held!.subtaskId], lost: [] });
    expect(await leases.get(key)).toMatchObject({ holder, token: held!.leaseToken });
  });
});
