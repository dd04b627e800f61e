import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { attemptsResponseSchema, type AttemptsResponse } from '../../shared/api/attempts.js';
import { lineageResponseSchema, type LineageResponse } from '../../shared/api/lineage.js';
import { createSqlApiKeyStore } from '../../shared/adapters/sql/api-keys.sql.js';
import { runMigrations } from '../../shared/adapters/sql/migrations.js';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { loadInfra } from '../../shared/env.js';
import { apiAuthFromInfra } from '../../shared/http-api/auth/from-infra.js';
import { runCli, type CliIo } from '../../shared/runtime/cli.js';
import { startEmbedded, type Embedded, type WorkflowBody } from './helpers/embedded.js';

const adminKey = 'test-admin-key-attempts-0123456789';
// Every first result is below the threshold (0.85 / 2), every second one passes (0.95).
const lowQuality = 'quality 0.425 below threshold 0.85';

let keysDb: SqlClient;
let api: Embedded;
const keys: Record<string, string> = {};

beforeAll(async () => {
  keysDb = await createPgliteClient();
  await runMigrations(keysDb);
  const auth = apiAuthFromInfra(loadInfra({ AMAS_AUTH: 'keys', AMAS_ADMIN_KEY: adminKey, AMAS_RATE_LIMIT_PER_SECOND: '0' }), {
    keys: createSqlApiKeyStore(keysDb),
  });
  api = await startEmbedded(
    { ORCHESTRATION_DEMO_LOW_QUALITY_RATE: '1', ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5', ORCHESTRATION_QUALITY_THRESHOLD: '0.85' },
    { auth },
  );
  for (const [name, role, tenant] of [
    ['acme', 'submitter', 'acme'],
    ['beta', 'operator', 'beta'],
  ] as const) {
    const created = await call<{ key: string }>('POST', '/v1/keys', adminKey, { role, tenant });
    keys[name] = created.body.key;
  }
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

async function completedWorkflow(): Promise<{ id: string; view: WorkflowBody }> {
  const submitted = await call<{ workflowId: string }>('POST', '/v1/tasks', keys.acme!, { description: 'Research AI market trends and create presentation' });
  expect(submitted.status).toBe(202);
  const id = submitted.body.workflowId;
  expect((await api.settle(id, 30_000)).status).toBe('completed');
  return { id, view: (await call<WorkflowBody>('GET', `/v1/workflows/${id}`, keys.acme!)).body };
}

describe('attempt history and lineage over the API (embedded runtime)', () => {
  let id: string;
  let view: WorkflowBody;
  beforeAll(async () => {
    ({ id, view } = await completedWorkflow());
  }, 60_000);

  it('GET /v1/workflows/:id/attempts: each subtask failed once below the threshold, then passed, and says why it re-ran', async () => {
    const answer = await call<AttemptsResponse>('GET', `/v1/workflows/${id}/attempts`, keys.acme!);
    expect(answer.status).toBe(200);
    const { attempts } = attemptsResponseSchema.parse(answer.body);
    expect(view.subtasks.length).toBeGreaterThan(1);
    expect(attempts.map((a) => `${a.subtaskId}#${a.attempt}`)).toEqual(view.subtasks.flatMap((s) => [`${s.id}#1`, `${s.id}#2`]));
    for (const subtask of view.subtasks) {
      expect(subtask).toMatchObject({ status: 'completed', attempts: 2 });
      const [first, second] = attempts.filter((a) => a.subtaskId === subtask.id);
      expect(first).toMatchObject({ status: 'failed', quality: 0.425, error: lowQuality, reason: null });
      expect(second).toMatchObject({ status: 'completed', quality: 0.95, error: null, reason: lowQuality, agentId: subtask.assignedAgent });
      // The re-run went to another agent, under a new fencing token.
      expect(second!.agentId).not.toBe(first!.agentId);
      expect(second!.leaseToken).not.toBe(first!.leaseToken);
      for (const a of [first!, second!]) expect(a.durationMs).toBeGreaterThanOrEqual(0);
    }
  });

  it('GET /v1/workflows/:id/subtasks/:subtaskId/attempts answers one subtask; a subtask of another workflow is a 404', async () => {
    const subtaskId = view.subtasks[0]!.id;
    const one = await call<AttemptsResponse>('GET', `/v1/workflows/${id}/subtasks/${subtaskId}/attempts`, keys.acme!);
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ workflowId: id, subtaskId });
    expect(one.body.attempts.map((a) => a.attempt)).toEqual([1, 2]);
    expect((await call('GET', `/v1/workflows/${id}/subtasks/nope/attempts`, keys.acme!)).status).toBe(404);
  });

  it("GET /v1/workflows/:id/lineage: outputs per attempt by their agents, and the plan's dependency edges", async () => {
    const answer = await call<LineageResponse>('GET', `/v1/workflows/${id}/lineage`, keys.acme!);
    expect(answer.status).toBe(200);
    const lineage = lineageResponseSchema.parse(answer.body);
    expect(lineage.source).toBe('graph');
    const ids = new Set(lineage.nodes.map((n) => n.id));
    for (const edge of lineage.edges) expect([ids.has(edge.from), ids.has(edge.to)]).toEqual([true, true]);
    const edges = (type: string) =>
      lineage.edges
        .filter((e) => e.type === type)
        .map((e) => `${e.from} ${e.to}`)
        .sort();
    expect(edges('DEPENDS_ON')).toEqual(view.subtasks.flatMap((s) => s.dependsOn.map((d) => `subtask:${s.id} subtask:${d}`)).sort());
    expect(edges('DEPENDS_ON').length).toBeGreaterThan(0);
    const outputs = lineage.nodes.flatMap((n) => (n.kind === 'output' ? [n] : []));
    expect(outputs.map((o) => `${o.ref} ${o.accepted}`).sort()).toEqual(view.subtasks.flatMap((s) => [`${s.id}#1 false`, `${s.id}#2 true`]).sort());
    for (const output of outputs) {
      expect(edges('PRODUCED')).toContain(`subtask:${output.subtaskId} output:${output.ref}`);
      expect(edges('PRODUCED_BY')).toContain(`output:${output.ref} agent:${output.agentId}`);
    }
    const accepted = outputs.filter((o) => o.accepted);
    expect(accepted.map((o) => o.agentId).sort()).toEqual(view.subtasks.map((s) => s.assignedAgent).sort());
  });

  it('another tenant gets 404 from every history route', async () => {
    const subtaskId = view.subtasks[0]!.id;
    for (const path of [`/v1/workflows/${id}/attempts`, `/v1/workflows/${id}/subtasks/${subtaskId}/attempts`, `/v1/workflows/${id}/lineage`]) {
      expect((await call('GET', path, keys.beta!)).status).toBe(404);
      expect((await call('GET', path, adminKey)).status).toBe(200);
    }
    expect((await call('GET', '/v1/workflows/wf_missing/attempts', adminKey)).status).toBe(404);
  });

  it('amas attempts and amas lineage print the history', async () => {
    let out = '';
    const io: CliIo = { out: (t) => void (out += t), err: () => undefined, env: { AMAS_URL: api.baseUrl, AMAS_TOKEN: keys.acme! } };
    expect(await runCli(['attempts', id], io)).toBe(0);
    const subtaskId = view.subtasks[0]!.id;
    expect(out).toMatch(new RegExp(`${subtaskId.replace(/[.]/g, '\\.')}\\s+1\\s+\\S+\\s+\\d+\\s+failed\\s+0\\.4\\d`));
    expect(out).toContain('quality 0.425 below');
    out = '';
    expect(await runCli(['lineage', id], io)).toBe(0);
    expect(out).toContain(`${subtaskId}#2  by ${view.subtasks[0]!.assignedAgent}  quality 0.95  accepted`);
    out = '';
    expect(await runCli(['attempts', id, '--subtask', subtaskId, '--json'], io)).toBe(0);
    expect(attemptsResponseSchema.parse(JSON.parse(out)).attempts).toHaveLength(2);
  });
});
