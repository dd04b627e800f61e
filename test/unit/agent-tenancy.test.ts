import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlApiKeyStore } from '../../shared/adapters/sql/api-keys.sql.js';
import { runMigrations } from '../../shared/adapters/sql/migrations.js';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { loadInfra } from '../../shared/env.js';
import { apiAuthFromInfra } from '../../shared/http-api/auth/from-infra.js';
import { startEmbedded, type Embedded } from './helpers/embedded.js';

const adminKey = 'test-admin-key-0123456789abcdef';
let keysDb: SqlClient;
let api: Embedded;

beforeAll(async () => {
  keysDb = await createPgliteClient();
  await runMigrations(keysDb);
  const auth = apiAuthFromInfra(loadInfra({ AMAS_AUTH: 'keys', AMAS_ADMIN_KEY: adminKey, AMAS_RATE_LIMIT_PER_SECOND: '0' }), {
    keys: createSqlApiKeyStore(keysDb),
  });
  api = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5' }, { auth });
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await keysDb?.close();
});

async function call<T>(method: string, path: string, token: string, body?: unknown): Promise<{ status: number; body: T }> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${api.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: response.status, body: (await response.json()) as T };
}

const keyFor = async (role: string, tenant: string, agentId?: string): Promise<string> => {
  const created = await call<{ key: string }>('POST', '/v1/keys', adminKey, { role, tenant, ...(agentId ? { agentId } : {}) });
  expect(created.status).toBe(201);
  return created.body.key;
};

const register = async (agentId: string, tenant: string) => {
  const answer = await call<{ agent: { id: string; tenant?: string } }>('POST', '/v1/agents/register', await keyFor('agent', tenant, agentId), {
    agentId,
    specialties: ['data_analyst'],
  });
  expect(answer.status).toBe(201);
  return answer.body.agent;
};

type Listed = { agents: { id: string; tenant?: string; demo: boolean }[] };

describe('agent pools per tenant over the API', () => {
  it("registers an agent into its key's tenant (an every-tenant key: shared), and lists a tenant only its own and the shared agents", async () => {
    expect(await register('acme-analyst', 'acme')).toMatchObject({ id: 'acme-analyst', tenant: 'acme' });
    expect((await register('beta-analyst', 'beta')).tenant).toBe('beta');
    expect((await register('everyone-analyst', '*')).tenant).toBeUndefined();

    const all = (await call<Listed>('GET', '/v1/agents', adminKey)).body.agents;
    const demo = all.filter((a) => a.demo).length;
    expect(demo).toBeGreaterThan(0);
    expect(
      all
        .filter((a) => !a.demo)
        .map((a) => a.id)
        .sort(),
    ).toEqual(['acme-analyst', 'beta-analyst', 'everyone-analyst']);

    const acmeOperator = await keyFor('operator', 'acme');
    const seen = await call<Listed>('GET', '/v1/agents', acmeOperator);
    expect(seen.status).toBe(200);
    expect(
      seen.body.agents
        .filter((a) => !a.demo)
        .map((a) => a.id)
        .sort(),
    ).toEqual(['acme-analyst', 'everyone-analyst']);
    expect(seen.body.agents.filter((a) => a.demo)).toHaveLength(demo);
    // An agent key reads the agents too: a beta agent sees no acme agent.
    const betaAgent = await call<Listed>('GET', '/v1/agents', await keyFor('agent', 'beta', 'beta-analyst'));
    expect(betaAgent.body.agents.map((a) => a.id)).not.toContain('acme-analyst');

    const total = async (token: string) => (await call<{ totalAgents: number; pools: { analysis: { count: number } } }>('GET', '/v1/hierarchy', token)).body;
    const everyone = await total(adminKey);
    const acme = await total(acmeOperator);
    expect(everyone.totalAgents).toBe(all.length);
    expect(acme.totalAgents).toBe(all.length - 1);
    expect(acme.pools.analysis.count).toBe(everyone.pools.analysis.count - 1);
  });
});
