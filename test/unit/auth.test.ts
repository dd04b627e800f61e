import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlApiKeyStore } from '../../shared/adapters/sql/api-keys.sql.js';
import { runMigrations } from '../../shared/adapters/sql/migrations.js';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { loadInfra } from '../../shared/env.js';
import type { AgentMessage } from '../../shared/messaging/message-schema.js';
import { apiAuthFromInfra, checkAuthSettings } from '../../shared/http-api/auth/from-infra.js';
import { runCli, type CliIo } from '../../shared/runtime/cli.js';
import { orchestratorId } from '../../functions/index.js';
import { startEmbedded, terminal, type Embedded, type WorkflowBody } from './helpers/embedded.js';
import { startOidcIssuer, type OidcIssuer } from './helpers/oidc-issuer.js';

const audience = 'amas-api';
const adminKey = 'test-admin-key-0123456789abcdef';
const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

let issuer: OidcIssuer;
let keysDb: SqlClient;
let api: Embedded;

beforeAll(async () => {
  issuer = await startOidcIssuer(audience);
  keysDb = await createPgliteClient();
  await runMigrations(keysDb);
  const infra = loadInfra({
    AMAS_AUTH: 'oidc',
    OIDC_ISSUER_URL: issuer.issuer,
    OIDC_AUDIENCE: audience,
    AMAS_ADMIN_KEY: adminKey,
    AMAS_RATE_LIMIT_PER_SECOND: '0',
    OIDC_JWKS_COOLDOWN_SECONDS: '1',
  });
  const auth = apiAuthFromInfra(infra, { keys: createSqlApiKeyStore(keysDb) });
  api = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5' }, { auth });
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await keysDb?.close();
  await issuer?.stop();
});

/** A request with a bearer credential (or none), answer parsed. */
async function call<T = Record<string, unknown>>(method: string, path: string, token: string | null, body?: unknown) {
  const headers: Record<string, string> = {};
  if (token !== null) headers.authorization = `Bearer ${token}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${api.baseUrl}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await response.text();
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // not JSON
  }
  return { status: response.status, body: parsed as T, headers: response.headers };
}

const userToken = (sub: string, roles: string[], tenant: string) => issuer.token({ sub, roles, tenant });

async function submit(token: string, body: Record<string, unknown> = {}): Promise<string> {
  const answer = await call<{ workflowId: string }>('POST', '/v1/tasks', token, { description: 'Write a short market summary', ...body });
  expect(answer.status).toBe(202);
  return answer.body.workflowId;
}

async function statusOf(workflowId: string, wanted: string, token: string): Promise<void> {
  const until = Date.now() + 20_000;
  for (;;) {
    const { body } = await call<WorkflowBody>('GET', `/v1/workflows/${workflowId}`, token);
    if (body.status === wanted) return;
    if (terminal.includes(body.status) || Date.now() > until) throw new Error(`workflow is ${body.status}, not ${wanted}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

describe('OIDC bearer tokens against a real issuer (discovery + JWKS over HTTP)', () => {
  it('accepts a valid token, and refuses missing, expired, wrong-audience, wrong-issuer, alg none and foreign-key tokens with 401', async () => {
    const good = await userToken('olga', ['operator'], 'acme');
    expect((await call('GET', '/v1/workflows', good)).status).toBe(200);

    const missing = await call('GET', '/v1/workflows', null);
    expect(missing.status).toBe(401);
    expect(missing.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const now = Math.floor(Date.now() / 1000);
    const foreign = await (await import('jose')).generateKeyPair('RS256');
    const refused: Record<string, string> = {
      // Past the 30 s clock tolerance.
      expired: await issuer.token({ roles: ['operator'], tenant: 'acme', iat: now - 600, exp: now - 60 }),
      'wrong audience': await issuer.token({ roles: ['operator'], tenant: 'acme', aud: 'another-api' }),
      'wrong issuer': await issuer.token({ roles: ['operator'], tenant: 'acme', iss: 'https://evil.example' }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ sub: 'mallory', iss: issuer.issuer, aud: audience, exp: now + 300, roles: ['admin'], tenant: 'acme' })}.`,
      // Same kid as the issuer's key, signed by a key the JWKS does not hold.
      'foreign key': await issuer.token({ roles: ['admin'], tenant: 'acme' }, { key: foreign.privateKey }),
      'foreign key, unknown kid': await issuer.token({ roles: ['admin'], tenant: 'acme' }, { key: foreign.privateKey, kid: 'not-published' }),
      garbage: 'not.a.jwt',
    };
    for (const [label, token] of Object.entries(refused)) {
      const answer = await call('GET', '/v1/workflows', token);
      expect(answer.status, label).toBe(401);
      expect(answer.headers.get('www-authenticate'), label).toMatch(/^Bearer/);
    }
    // Within the clock tolerance an expired token still passes.
    expect((await call('GET', '/v1/workflows', await issuer.token({ roles: ['operator'], tenant: 'acme', exp: now - 5 }))).status).toBe(200);
  });

  it('follows key rotation: a token signed by a newly published key is accepted; unknown kids refetch the JWKS at most once per cooldown', async () => {
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    await issuer.rotate(true);
    const fetched = issuer.jwksFetches();
    expect((await call('GET', '/v1/workflows', await userToken('olga', ['operator'], 'acme'))).status).toBe(200);
    expect(issuer.jwksFetches()).toBe(fetched + 1);
    // A flood of made-up kids within the cooldown costs the issuer nothing more.
    for (const kid of ['x1', 'x2', 'x3'])
      expect((await call('GET', '/v1/workflows', await issuer.token({ roles: ['operator'], tenant: 'acme' }, { kid }))).status).toBe(401);
    expect(issuer.jwksFetches()).toBe(fetched + 1);
  });

  it('refuses a token without the tenant claim (401 naming the claim) unless OIDC_DEFAULT_TENANT names the tenant', async () => {
    const untenanted = await issuer.token({ sub: 'olga', roles: ['operator'] });
    const refused = await call<{ message: string }>('GET', '/v1/workflows', untenanted);
    expect(refused.status).toBe(401);
    expect(refused.body.message).toBe('the token has no tenant claim naming its tenant');
    expect(refused.headers.get('www-authenticate')).toContain('no tenant claim');
    const numeric = await call<{ message: string }>('GET', '/v1/workflows', await issuer.token({ roles: ['operator'], tenant: 42 }));
    expect([numeric.status, numeric.body.message]).toEqual([401, "the token's tenant claim is not a tenant name"]);

    const settings = { AMAS_AUTH: 'oidc', OIDC_ISSUER_URL: issuer.issuer, OIDC_AUDIENCE: audience, OIDC_TENANT_CLAIM: 'org.id' };
    const withDefault = apiAuthFromInfra(loadInfra({ ...settings, OIDC_DEFAULT_TENANT: 'acme' }), { keys: null });
    expect(await withDefault.verify(untenanted)).toMatchObject({ subject: 'olga', tenant: 'acme', roles: ['operator'] });
    // The configured (nested) claim still wins over the default.
    expect(await withDefault.verify(await issuer.token({ sub: 'bea', roles: ['operator'], org: { id: 'beta' } }))).toMatchObject({ tenant: 'beta' });
    expect(await apiAuthFromInfra(loadInfra(settings), { keys: null }).verify(untenanted)).toEqual({
      refused: 'the token has no org.id claim naming its tenant',
    });
    // A default may name one tenant, never every tenant.
    expect(() => loadInfra({ ...settings, OIDC_DEFAULT_TENANT: '*' })).toThrow(/OIDC_DEFAULT_TENANT="\*"/);
  });

  it('keeps /health and /ready open', async () => {
    expect((await call('GET', '/health/orchestration', null)).status).toBe(200);
    expect([200, 503]).toContain((await call('GET', '/ready/orchestration', null)).status);
  });
});

describe('roles', () => {
  it("a submitter submits and reads its own workflows, but cannot cancel (403), read another submitter's (404), or list keys (403)", async () => {
    const sam = await userToken('sam', ['submitter'], 'acme');
    const sue = await userToken('sue', ['submitter'], 'acme');
    // Held at approval, so it is still active when the operator cancels it.
    const id = await submit(sam, { requireApproval: true });
    expect((await call('GET', `/v1/workflows/${id}`, sam)).status).toBe(200);
    expect((await call('POST', `/v1/workflows/${id}/cancel`, sam, {})).status).toBe(403);
    expect((await call('GET', `/v1/workflows/${id}`, sue)).status).toBe(404);
    const listed = await call<{ workflows: { workflowId: string }[] }>('GET', '/v1/workflows', sue);
    expect(listed.body.workflows.map((w) => w.workflowId)).not.toContain(id);
    expect((await call('GET', '/v1/keys', sam)).status).toBe(403);
    // An operator of the tenant may cancel it.
    expect(await call('POST', `/v1/workflows/${id}/cancel`, await userToken('olga', ['operator'], 'acme'), {})).toMatchObject({
      status: 200,
      body: { status: 'cancelled' },
    });
  });

  it("the communication bus's metrics (counts over every tenant) are an operator's to read, not an agent's or a submitter's (403)", async () => {
    expect((await call('GET', '/v1/messages/metrics', await userToken('olga', ['operator'], 'acme'))).status).toBe(200);
    expect((await call('GET', '/v1/messages/metrics', await userToken('ada', ['agent'], 'acme'))).status).toBe(403);
    expect((await call('GET', '/v1/messages/metrics', await userToken('sam', ['submitter'], 'acme'))).status).toBe(403);
  });

  it('an approver approves a workflow awaiting approval; an operator may not (403)', async () => {
    const id = await submit(await userToken('sam', ['submitter'], 'acme'), { requireApproval: true });
    const approver = await userToken('ann', ['approver'], 'acme');
    await statusOf(id, 'awaiting_approval', approver);
    expect((await call('POST', `/v1/workflows/${id}/approve`, await userToken('olga', ['operator'], 'acme'), {})).status).toBe(403);
    // Another tenant's approver does not even see it.
    expect((await call('POST', `/v1/workflows/${id}/approve`, await userToken('bob', ['approver'], 'beta'), {})).status).toBe(404);
    const approved = await call<WorkflowBody>('POST', `/v1/workflows/${id}/approve`, approver, {});
    expect(approved).toMatchObject({ status: 200, body: { workflowId: id, status: 'completed' } });
  });

  it('a specialist agent cannot approve through messaging (ERROR_REPORT, still awaiting); an executive can', async () => {
    const { messages, ports } = api.runtime;
    if (!messages) throw new Error('no communication bus');
    const id = await submit(await userToken('sam', ['submitter'], 'acme'), { requireApproval: true });
    const operator = await userToken('olga', ['operator'], 'acme');
    await statusOf(id, 'awaiting_approval', operator);
    const now = Date.now();
    await ports.directory.register({ id: 'spec-sneaky', layer: 'SPECIALIST', specialties: ['data_analyst'], capacity: 1, demo: false }, now);
    await ports.directory.register({ id: 'exec-approver', layer: 'EXECUTIVE', role: 'quality_supervisor', specialties: [], capacity: 1, demo: false }, now);
    const inbox: Record<string, AgentMessage[]> = { 'spec-sneaky': [], 'exec-approver': [] };
    const closers = [];
    for (const agent of Object.keys(inbox)) closers.push(await messages.onMessage(agent, (m) => void inbox[agent]!.push(m)));

    await messages.sendMessage({
      senderId: 'spec-sneaky',
      recipientId: orchestratorId,
      messageType: 'APPROVAL_RESPONSE',
      priority: 'HIGH',
      payload: { workflowId: id, approved: true },
    });
    await expect.poll(() => inbox['spec-sneaky']!.length, { timeout: 5_000 }).toBe(1);
    expect(inbox['spec-sneaky']![0]).toMatchObject({ messageType: 'ERROR_REPORT', payload: { workflowId: id, accepted: false } });
    expect((await call<WorkflowBody>('GET', `/v1/workflows/${id}`, operator)).body.status).toBe('awaiting_approval');

    await messages.sendMessage({
      senderId: 'exec-approver',
      recipientId: orchestratorId,
      messageType: 'APPROVAL_RESPONSE',
      priority: 'HIGH',
      payload: { workflowId: id, approved: true },
    });
    await expect.poll(() => inbox['exec-approver']!.length, { timeout: 5_000 }).toBe(1);
    expect(inbox['exec-approver']![0]).toMatchObject({ messageType: 'MESSAGE_PROCESSED', payload: { accepted: true } });
    await statusOf(id, 'completed', operator);
    for (const close of closers) close();
  });
});

describe('tenants', () => {
  it("tenant B can neither read, list, command nor stream tenant A's workflow: 404, never 403", async () => {
    const aOps = await userToken('olga', ['operator'], 'acme');
    const bOps = await userToken('bert', ['operator'], 'beta');
    const id = await submit(await userToken('sam', ['submitter'], 'acme'));
    expect((await call('GET', `/v1/workflows/${id}`, aOps)).status).toBe(200);
    expect((await call('GET', `/v1/workflows/${id}`, bOps)).status).toBe(404);
    expect((await call('GET', `/v1/workflows/${id}/events`, bOps)).status).toBe(404);
    expect((await call('POST', `/v1/workflows/${id}/pause`, bOps, {})).status).toBe(404);
    const listed = await call<{ workflows: { workflowId: string }[]; total: number }>('GET', '/v1/workflows?limit=500', bOps);
    expect(listed.body.workflows.map((w) => w.workflowId)).not.toContain(id);
    expect(listed.body.total).toBe(listed.body.workflows.length);
  });

  it("GET /v1/events carries only the changes of the caller's tenant", async () => {
    const bOps = await userToken('bert', ['operator'], 'beta');
    const controller = new AbortController();
    const response = await fetch(`${api.baseUrl}/v1/events`, { headers: { authorization: `Bearer ${bOps}` }, signal: controller.signal });
    expect(response.status).toBe(200);
    let text = '';
    const reading = (async () => {
      const decoder = new TextDecoder();
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk, { stream: true });
    })().catch(() => undefined);
    const theirs = await submit(await userToken('sam', ['submitter'], 'acme'));
    const ours = await submit(await userToken('bea', ['submitter'], 'beta'));
    await expect.poll(() => text.includes(`"workflowId":"${ours}","kind":"workflow","subtaskId":null,"status":"completed"`), { timeout: 20_000 }).toBe(true);
    await api.settle(theirs);
    controller.abort();
    await reading;
    expect(text).toContain(ours);
    expect(text).not.toContain(theirs);
  });

  it('the quota is per tenant: one tenant at ORCHESTRATION_MAX_WORKFLOWS does not stop another', async () => {
    // Checked on a runtime of its own, so the other tests' workflows do not count.
    const small = await startEmbedded(
      { ORCHESTRATION_MAX_WORKFLOWS: '1', ORCHESTRATION_MAX_WORKFLOWS_GLOBAL: '2', ORCHESTRATION_DEMO_AGENT_DELAY_MS: '60000' },
      { auth: apiAuthFromInfra(loadInfra({ AMAS_AUTH: 'keys', AMAS_ADMIN_KEY: adminKey }), { keys: createSqlApiKeyStore(keysDb) }) },
    );
    try {
      const post = (tenantKey: string) =>
        fetch(`${small.baseUrl}/v1/tasks`, {
          method: 'POST',
          headers: { authorization: `Bearer ${tenantKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ description: 'Analyse the churn data' }),
        });
      const make = async (tenant: string) => {
        const created = await fetch(`${small.baseUrl}/v1/keys`, {
          method: 'POST',
          headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
          body: JSON.stringify({ role: 'submitter', tenant }),
        });
        return ((await created.json()) as { key: string }).key;
      };
      const [a, b, c] = [await make('acme'), await make('beta'), await make('gamma')];
      expect((await post(a)).status).toBe(202);
      const refused = await post(a);
      expect(refused.status).toBe(429);
      expect(refused.headers.get('retry-after')).toBe('5');
      expect((await post(b)).status).toBe(202);
      // Two active in all: the global cap holds for a third tenant.
      const global = await post(c);
      expect(global.status).toBe(429);
      expect(await global.text()).toContain('ORCHESTRATION_MAX_WORKFLOWS_GLOBAL');
    } finally {
      await small.stop();
    }
  });
});

describe('API keys', () => {
  const cli = async (args: string[], token: string) => {
    let out = '';
    let err = '';
    const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), env: { AMAS_URL: api.baseUrl, AMAS_TOKEN: token } };
    const code = await runCli(args, io);
    return { code, out, err };
  };

  it('amas keys create (admin), the key works, amas keys revoke: refused (401) at once', async () => {
    const created = await cli(['keys', 'create', '--role', 'operator', '--tenant', 'acme', '--name', 'ci'], adminKey);
    expect(created.code, created.err).toBe(0);
    const key = created.out.trim();
    expect(key).toMatch(/^amk_[0-9a-f]{16}\./);
    expect((await call('GET', '/v1/workflows', key)).status).toBe(200);

    const listed = await cli(['keys', 'list', '--json'], adminKey);
    const record = (JSON.parse(listed.out) as { keys: { id: string; name: string; role: string; tenant: string }[] }).keys.find((k) =>
      key.startsWith(`amk_${k.id}.`),
    );
    expect(record).toMatchObject({ name: 'ci', role: 'operator', tenant: 'acme' });
    expect(listed.out).not.toContain(key.split('.')[1]);

    expect((await cli(['keys', 'revoke', record!.id], adminKey)).code).toBe(0);
    expect((await call('GET', '/v1/workflows', key)).status).toBe(401);
    // A wrong secret for a live id is as unknown as any other.
    const other = (await cli(['keys', 'create', '--role', 'operator', '--tenant', 'acme'], adminKey)).out.trim();
    expect((await call('GET', '/v1/workflows', `${other.slice(0, -4)}AAAA`)).status).toBe(401);
  });

  it("only admins manage keys, and a tenant admin only its own tenant's", async () => {
    const operator = await userToken('olga', ['operator'], 'acme');
    expect((await call('POST', '/v1/keys', operator, { role: 'admin', tenant: '*' })).status).toBe(403);
    const tenantAdmin = await userToken('ada', ['admin'], 'acme');
    expect((await call('POST', '/v1/keys', tenantAdmin, { role: 'submitter', tenant: 'beta' })).status).toBe(403);
    expect((await call('POST', '/v1/keys', tenantAdmin, { role: 'submitter', tenant: 'acme' })).status).toBe(201);
    const seen = await call<{ keys: { tenant: string }[] }>('GET', '/v1/keys', tenantAdmin);
    expect(new Set(seen.body.keys.map((k) => k.tenant))).toEqual(new Set(['acme']));
  });
});

describe('binding', () => {
  it('refuses AMAS_AUTH=none on a non-loopback HOST, naming both variables', () => {
    expect(() => checkAuthSettings(loadInfra({ HOST: '0.0.0.0' }))).toThrow(/HOST=0\.0\.0\.0[\s\S]*AMAS_AUTH=none/);
    expect(() => checkAuthSettings(loadInfra({ HOST: '::' }))).toThrow(/AMAS_AUTH=none/);
    for (const host of ['127.0.0.1', 'localhost', '::1', '127.0.0.2']) expect(() => checkAuthSettings(loadInfra({ HOST: host }))).not.toThrow();
    expect(() => checkAuthSettings(loadInfra({ HOST: '0.0.0.0', AMAS_AUTH: 'keys' }))).toThrow(/AMAS_ADMIN_KEY/);
    expect(() => checkAuthSettings(loadInfra({ HOST: '0.0.0.0', AMAS_AUTH: 'keys', AMAS_ADMIN_KEY: adminKey }))).not.toThrow();
    expect(() => loadInfra({ OIDC_ALGORITHMS: 'RS256,HS256' })).toThrow(/OIDC_ALGORITHMS/);
    expect(() => loadInfra({ OIDC_ALGORITHMS: 'none' })).toThrow(/OIDC_ALGORITHMS/);
  });

  it('the server process exits 2 with that message (HOST=0.0.0.0, no AMAS_AUTH)', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'shared/runtime/main-embedded.ts'], {
      env: { ...process.env, HOST: '0.0.0.0', AMAS_AUTH: '', PORT: '0', AMAS_DATA_DIR: 'memory' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
    expect(code).toBe(2);
    expect(stderr).toContain('HOST=0.0.0.0');
    expect(stderr).toContain('AMAS_AUTH=none');
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
