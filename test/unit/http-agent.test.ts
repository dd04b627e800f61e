import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlApiKeyStore } from '../../shared/adapters/sql/api-keys.sql.js';
import { runMigrations } from '../../shared/adapters/sql/migrations.js';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import type { AgentWorkItem } from '../../shared/api/agents.js';
import { loadInfra } from '../../shared/env.js';
import { allSpecialties } from '../../shared/domain/vocabulary.js';
import { topics } from '../../shared/events/index.js';
import { createHttpAgent, type HttpAgent } from '../../shared/agent-sdk/http-agent.js';
import type { AgentTask } from '../../shared/agent-sdk/create-agent.js';
import { agentIdOf } from '../../shared/http-api/agent-routes.js';
import { apiAuthFromInfra } from '../../shared/http-api/auth/from-infra.js';
import { localPrincipal } from '../../shared/http-api/auth/principal.js';
import { runCli, type CliIo } from '../../shared/runtime/cli.js';
import { startEmbedded, type Embedded } from './helpers/embedded.js';

const adminKey = 'test-admin-key-http-agents-0123456789';
const specialties = [...allSpecialties];

let keysDb: SqlClient;
let api: Embedded;
const agents: HttpAgent[] = [];

beforeAll(async () => {
  keysDb = await createPgliteClient();
  await runMigrations(keysDb);
  const auth = apiAuthFromInfra(loadInfra({ AMAS_AUTH: 'keys', AMAS_ADMIN_KEY: adminKey, AMAS_RATE_LIMIT_PER_SECOND: '0' }), {
    keys: createSqlApiKeyStore(keysDb),
  });
  // No demo specialists, and pools of one: every subtask can only go to the HTTP agents below (no demo spawns).
  api = await startEmbedded(
    {
      ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: '0',
      ORCHESTRATION_MAX_AGENTS_PER_POOL: '1',
      ORCHESTRATION_HEARTBEAT_INTERVAL: '1',
      ORCHESTRATION_LEASE_TTL_SECONDS: '3',
    },
    { auth },
  );
}, 60_000);

afterAll(async () => {
  for (const agent of agents) await agent.stop();
  await api?.stop();
  await keysDb?.close();
});

async function call<T = Record<string, unknown>>(method: string, path: string, token: string, body?: unknown) {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${api.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  return { status: response.status, body: (text ? JSON.parse(text) : null) as T };
}

/** `amas keys create --role agent --agent-id <id>` as an admin runs it; returns the key and its id. */
async function agentKey(agentId: string | null): Promise<{ key: string; id: string }> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), env: { AMAS_URL: api.baseUrl, AMAS_TOKEN: adminKey } };
  const code = await runCli(['keys', 'create', '--role', 'agent', '--tenant', '*', ...(agentId ? ['--agent-id', agentId] : []), '--json'], io);
  expect(code, err).toBe(0);
  const created = JSON.parse(out) as { key: string; id: string; agentId: string | null };
  expect(created.agentId).toBe(agentId);
  return created;
}

async function submit(description: string): Promise<string> {
  const answer = await call<{ workflowId: string }>('POST', '/v1/tasks', adminKey, { description });
  expect(answer.status).toBe(202);
  return answer.body.workflowId;
}

describe('agents as remote HTTP clients (AMAS_AUTH=keys)', () => {
  let slowKey: { key: string; id: string };
  let firstWorkflow: string;
  let held: AgentWorkItem;

  it('an agent acts only as itself: register, heartbeat, work and results under another id are refused', async () => {
    slowKey = await agentKey('http-slow');
    const other = await agentKey('http-other');
    const unbound = await agentKey(null);
    const submitter = (await call<{ key: string }>('POST', '/v1/keys', adminKey, { role: 'submitter', tenant: '*' })).body.key;

    expect((await call('POST', '/v1/agents/register', other.key, { agentId: 'http-slow', specialties })).status).toBe(403);
    expect((await call('POST', '/v1/agents/register', unbound.key, { agentId: 'http-slow', specialties })).status).toBe(403);
    expect((await call('POST', '/v1/agents/register', submitter, { agentId: 'http-slow', specialties })).status).toBe(403);
    // An executive may approve workflows: not a layer an agent declares for itself over HTTP.
    expect((await call('POST', '/v1/agents/register', slowKey.key, { agentId: 'http-slow', layer: 'EXECUTIVE', specialties: [] })).status).toBe(400);

    const registered = await call<{ agent: { id: string; demo: boolean; specialties: string[] } }>('POST', '/v1/agents/register', slowKey.key, {
      agentId: 'http-slow',
      specialties,
      capacity: 1,
    });
    // Health every heartbeat interval; lease renewals every third of the lease TTL.
    expect(registered).toMatchObject({
      status: 201,
      body: { agent: { id: 'http-slow', demo: false }, heartbeatIntervalSeconds: 1, leaseTtlSeconds: 3, leaseRenewalSeconds: 1 },
    });
    expect((await call<{ agents: { id: string }[] }>('GET', '/v1/agents', adminKey)).body.agents.map((a) => a.id)).toContain('http-slow');

    firstWorkflow = await submit('Research the market for electric bikes, analyse the data and write a report');
    const polled = await call<{ work: AgentWorkItem[] }>('GET', '/v1/agents/http-slow/work?waitMs=15000', slowKey.key);
    expect(polled.status).toBe(200);
    expect(polled.body.work).toHaveLength(1);
    held = polled.body.work[0]!;
    expect(held).toMatchObject({ workflowId: firstWorkflow, attempt: 1 });
    expect(held.leaseToken).toBeGreaterThan(0);

    // Another agent can neither read this agent's work nor report or heartbeat for it.
    expect((await call('GET', '/v1/agents/http-slow/work', other.key)).status).toBe(403);
    expect((await call('POST', '/v1/agents/http-slow/heartbeat', other.key, {})).status).toBe(403);
    expect(
      (await call('POST', '/v1/agents/http-slow/leases', other.key, { working: [{ subtaskId: held.subtaskId, leaseToken: held.leaseToken }] })).status,
    ).toBe(403);
    // Even as itself, another agent renews only its own leases.
    expect(
      (await call('POST', '/v1/agents/http-other/leases', other.key, { working: [{ subtaskId: held.subtaskId, leaseToken: held.leaseToken }] })).body,
    ).toMatchObject({ renewed: [], lost: [held.subtaskId] });
    const forged = {
      status: 'completed',
      subtaskId: held.subtaskId,
      attempt: held.attempt,
      leaseToken: held.leaseToken,
      quality: 1,
      output: 'forged',
      durationMs: 1,
    };
    expect((await call('POST', '/v1/agents/http-slow/results', other.key, forged)).status).toBe(403);
    // Reporting as itself on work that is not its own: unknown to it.
    expect((await call('POST', '/v1/agents/http-other/results', other.key, forged)).status).toBe(404);

    const beat = await call<{ renewed: string[]; lost: string[] }>('POST', '/v1/agents/http-slow/heartbeat', slowKey.key, {
      working: [{ subtaskId: held.subtaskId, leaseToken: held.leaseToken }],
    });
    expect(beat).toMatchObject({ status: 200, body: { renewed: [held.subtaskId], lost: [] } });
    // Renewal alone: the lease moves on, no agent.heartbeat is published.
    const beatsBefore = (await api.bus.read(topics.agents)).length;
    const before = (await api.runtime.ports.leases.get(`subtask:${held.subtaskId}`))!.expiresAt;
    await new Promise((resolve) => setTimeout(resolve, 20));
    const renewed = await call<{ renewed: string[]; lost: string[] }>('POST', '/v1/agents/http-slow/leases', slowKey.key, {
      working: [
        { subtaskId: held.subtaskId, leaseToken: held.leaseToken + 1 },
        { subtaskId: held.subtaskId, leaseToken: held.leaseToken },
      ],
    });
    expect(renewed).toMatchObject({ status: 200, body: { renewed: [held.subtaskId], lost: [held.subtaskId] } });
    expect((await api.runtime.ports.leases.get(`subtask:${held.subtaskId}`))!.expiresAt).toBeGreaterThan(before);
    expect((await api.bus.read(topics.agents)).length).toBe(beatsBefore);
  });

  it('a report with a stale fencing token or attempt is refused (409) and changes nothing', async () => {
    const report = { status: 'completed', subtaskId: held.subtaskId, quality: 0.9, output: 'late', durationMs: 5 };
    expect(
      (await call('POST', '/v1/agents/http-slow/results', slowKey.key, { ...report, attempt: held.attempt, leaseToken: held.leaseToken + 1 })).status,
    ).toBe(409);
    expect(
      (await call('POST', '/v1/agents/http-slow/results', slowKey.key, { ...report, attempt: held.attempt + 1, leaseToken: held.leaseToken })).status,
    ).toBe(409);
    const subtask = await api.runtime.ports.store.getSubtask(held.subtaskId);
    expect(subtask).toMatchObject({ status: 'in_progress', assignedAgent: 'http-slow', leaseToken: held.leaseToken, attempts: held.attempt, output: null });
  });

  it('a revoked agent key is refused (401) for its report and heartbeat; the work goes to other agents', async () => {
    expect((await call('POST', `/v1/keys/${slowKey.id}/revoke`, adminKey, {})).status).toBe(200);
    const report = {
      status: 'completed',
      subtaskId: held.subtaskId,
      attempt: held.attempt,
      leaseToken: held.leaseToken,
      quality: 0.99,
      output: 'from a revoked agent',
      durationMs: 5,
    };
    expect((await call('POST', '/v1/agents/http-slow/results', slowKey.key, report)).status).toBe(401);
    expect((await call('POST', '/v1/agents/http-slow/heartbeat', slowKey.key, {})).status).toBe(401);
    expect((await call('GET', '/v1/agents/http-slow/work', slowKey.key)).status).toBe(401);
    await api.quiesce();
    expect(await api.runtime.ports.store.getSubtask(held.subtaskId)).toMatchObject({ status: 'in_progress', leaseToken: held.leaseToken, output: null });
  });

  it('HTTP-only agents (an API URL and their own key) complete workflows end to end', async () => {
    const tasks: AgentTask[] = [];
    const keys: Record<string, string> = {};
    for (const agentId of ['http-a', 'http-b']) {
      const { key } = await agentKey(agentId);
      keys[agentId] = key;
      agents.push(
        await createHttpAgent({
          url: api.baseUrl,
          token: key,
          agentId,
          specialties,
          pollWaitMs: 2_000,
          handle: async (task) => {
            tasks.push(task);
            await new Promise((resolve) => setTimeout(resolve, 20));
            return { quality: 0.93, output: { by: agentId, title: task.title, inputs: task.inputs.map((i) => i.subtaskId) } };
          },
        }),
      );
    }

    const second = await submit('Analyse the churn data and write a summary for the board');
    // The revoked agent's work is taken back when its lease runs out and done by the HTTP agents.
    for (const workflowId of [firstWorkflow, second]) expect((await api.settle(workflowId, 30_000)).status).toBe('completed');

    const first = await api.runtime.ports.store.getSubtasks(firstWorkflow);
    const reclaimed = first.find((s) => s.id === held.subtaskId)!;
    expect(reclaimed.attempts).toBeGreaterThan(1);
    expect(reclaimed.output).not.toBe('from a revoked agent');
    const subtasks = [...first, ...(await api.runtime.ports.store.getSubtasks(second))];
    for (const s of subtasks) {
      expect(s.status).toBe('completed');
      expect(['http-a', 'http-b']).toContain(s.assignedAgent);
      expect(s.output).toMatchObject({ by: s.assignedAgent, title: s.title, inputs: s.dependsOn });
    }
    // Dependency outputs reach the dependent subtask with its work.
    const dependent = tasks.find((t) => t.inputs.length > 0);
    expect(dependent, 'the plan has a subtask with dependencies').toBeDefined();
    for (const input of dependent!.inputs) expect(input.output).toMatchObject({ by: expect.stringMatching(/^http-[ab]$/) });
    // Each sees its own work only.
    expect((await call('GET', '/v1/agents/http-b/work', keys['http-a']!)).status).toBe(403);
  }, 60_000);
});

describe('which agent a credential speaks for', () => {
  it('an agent key its bound id, an OIDC agent its subject, anyone else none; AMAS_AUTH=none (loopback) any', () => {
    const base = { tenant: 'acme', credential: 'c' } as const;
    expect(agentIdOf({ ...base, subject: 'key:1', roles: ['agent'], via: 'key', agentId: 'writer-1' })).toBe('writer-1');
    expect(agentIdOf({ ...base, subject: 'key:2', roles: ['agent'], via: 'key' })).toBeNull();
    expect(agentIdOf({ ...base, subject: 'svc-writer', roles: ['agent'], via: 'oidc' })).toBe('svc-writer');
    expect(agentIdOf({ ...base, subject: 'olga', roles: ['operator'], via: 'oidc' })).toBeNull();
    expect(agentIdOf({ ...base, subject: 'admin-key', roles: ['admin'], via: 'admin-key' })).toBeNull();
    expect(agentIdOf(localPrincipal)).toBe('any');
  });
});
