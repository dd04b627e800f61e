import type { Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlApiKeyStore } from '../../shared/adapters/sql/api-keys.sql.js';
import { runMigrations } from '../../shared/adapters/sql/migrations.js';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import { loadInfra } from '../../shared/env.js';
import { createApiApp } from '../../shared/http-api/app.js';
import { apiAuthFromInfra } from '../../shared/http-api/auth/from-infra.js';
import type { ApiAuth } from '../../shared/http-api/auth/middleware.js';
import { createLogger } from '../../shared/observability/logger.js';
import { startEmbedded, type Embedded } from './helpers/embedded.js';

// The console's event streams: EventSource cannot send Authorization, so the token rides as ?access_token= on their GETs, and nowhere else.
const adminKey = 'test-admin-key-0123456789abcdef';

let keysDb: SqlClient;
let auth: ApiAuth;
let api: Embedded;
let key: string;

beforeAll(async () => {
  keysDb = await createPgliteClient();
  await runMigrations(keysDb);
  auth = apiAuthFromInfra(loadInfra({ AMAS_AUTH: 'keys', AMAS_ADMIN_KEY: adminKey, AMAS_RATE_LIMIT_PER_SECOND: '0' }), { keys: createSqlApiKeyStore(keysDb) });
  api = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5' }, { auth });
  const created = await fetch(`${api.baseUrl}/v1/keys`, {
    method: 'POST',
    headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ role: 'admin', tenant: 'acme' }),
  });
  expect(created.status).toBe(201);
  key = ((await created.json()) as { key: string }).key;
}, 60_000);

afterAll(async () => {
  await api?.stop();
  await keysDb?.close();
});

const q = (token: string) => `access_token=${encodeURIComponent(token)}`;

/** Reads an event stream until `done` holds for what arrived (or the time runs out), then stops reading. */
async function readStream(url: string, done: (text: string) => boolean, timeoutMs = 20_000): Promise<{ status: number; type: string | null; text: string }> {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  let text = '';
  if (response.ok) {
    const timer = setTimeout(() => controller.abort(), timeoutMs);
    const decoder = new TextDecoder();
    try {
      for await (const chunk of response.body as unknown as AsyncIterable<Uint8Array>) {
        text += decoder.decode(chunk, { stream: true });
        if (done(text)) break;
      }
    } catch {
      // aborted: the time ran out
    } finally {
      clearTimeout(timer);
      controller.abort();
    }
  } else {
    text = await response.text();
  }
  return { status: response.status, type: response.headers.get('content-type'), text };
}

async function submit(): Promise<string> {
  const response = await fetch(`${api.baseUrl}/v1/tasks`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ description: 'Write a short market summary' }),
  });
  expect(response.status).toBe(202);
  return ((await response.json()) as { workflowId: string }).workflowId;
}

describe('access_token on the event streams', () => {
  it('GET /v1/events?access_token=<valid key> streams the changes', async () => {
    let id = '';
    const reading = readStream(
      `${api.baseUrl}/v1/events?${q(key)}`,
      (text) => id !== '' && text.includes(`"workflowId":"${id}","kind":"workflow","subtaskId":null,"status":"completed"`),
    );
    // Submitted once the stream is open: /v1/events is live from connect.
    await new Promise((resolve) => setTimeout(resolve, 200));
    id = await submit();
    const { status, type, text } = await reading;
    expect(status).toBe(200);
    expect(type).toMatch(/^text\/event-stream/);
    expect(text).toContain(`"workflowId":"${id}","kind":"workflow","subtaskId":null,"status":"completed"`);
  });

  it('GET /v1/workflows/:id/events?access_token= replays and ends; the token is taken out of the query, so ?after= still applies', async () => {
    const id = await submit();
    await api.settle(id);
    const whole = await readStream(`${api.baseUrl}/v1/workflows/${id}/events?${q(key)}`, (text) => text.includes('event: end'));
    expect(whole.status).toBe(200);
    expect(whole.text).toContain(`event: end\ndata: {"workflowId":"${id}","status":"completed"}`);
    const cursors = [...whole.text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]!);
    expect(cursors.length).toBeGreaterThan(2);
    // The token before and after the other parameter: the rest of the query reaches the route as sent.
    for (const query of [`after=${encodeURIComponent(cursors[0]!)}&${q(key)}`, `${q(key)}&after=${encodeURIComponent(cursors[0]!)}`]) {
      const resumed = await readStream(`${api.baseUrl}/v1/workflows/${id}/events?${query}`, (text) => text.includes('event: end'));
      expect(resumed.status, query).toBe(200);
      expect(
        [...resumed.text.matchAll(/^id: (.+)$/gm)].map((m) => m[1]),
        query,
      ).toEqual(cursors.slice(1));
    }
  });

  it('refuses an invalid, revoked-looking, empty or repeated access_token with 401', async () => {
    const wrongSecret = `${key.slice(0, -4)}AAAA`;
    for (const query of [q(wrongSecret), q('not-a-token'), 'access_token=', `${q(key)}&${q(key)}`]) {
      const answer = await fetch(`${api.baseUrl}/v1/events?${query}`);
      expect(answer.status, query).toBe(401);
      expect(answer.headers.get('www-authenticate'), query).toMatch(/^Bearer/);
      await answer.body?.cancel();
    }
  });

  it('accepts access_token on no other route and on no POST: 401, though the same key in the header is let in', async () => {
    const id = await submit();
    const refused: [string, string][] = [
      ['GET', '/v1/workflows'],
      ['GET', `/v1/workflows/${id}`],
      ['GET', '/v1/agents'],
      ['POST', '/v1/tasks'],
      ['POST', `/v1/workflows/${id}/cancel`],
      ['POST', '/v1/events'],
      ['POST', `/v1/workflows/${id}/events`],
    ];
    for (const [method, path] of refused) {
      const init: RequestInit = {
        method,
        ...(method === 'POST'
          ? { headers: { 'content-type': 'application/json' }, body: JSON.stringify({ description: 'Write a short market summary' }) }
          : {}),
      };
      const answer = await fetch(`${api.baseUrl}${path}?${q(key)}`, init);
      expect(answer.status, `${method} ${path}`).toBe(401);
      await answer.body?.cancel();
    }
    const withHeader = await fetch(`${api.baseUrl}/v1/workflows/${id}`, { headers: { authorization: `Bearer ${key}` } });
    expect(withHeader.status).toBe(200);
    // Still running (or done): the refused cancel changed nothing it could not have changed itself.
    expect(((await withHeader.json()) as { status: string }).status).not.toBe('cancelled');
  });

  it("the request log names the stream's path without its query: the token is never logged", async () => {
    const lines: string[] = [];
    const logger = createLogger('DEBUG', 'test', (line) => lines.push(line));
    // The same runtime behind a second app whose log this test reads.
    const server: Server = await new Promise((resolve) => {
      const listening = createApiApp({ ...api.runtime, logger }, { auth }).listen(0, '127.0.0.1', () => resolve(listening));
    });
    const address = server.address();
    const base = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
    try {
      const streamed = await readStream(`${base}/v1/events?${q(key)}`, (text) => text.length > 0, 2_000);
      expect(streamed.status).toBe(200);
      const refused = await fetch(`${base}/v1/workflows?${q(key)}`);
      expect(refused.status).toBe(401);
      await expect.poll(() => lines.filter((l) => l.includes('"message":"request"')).length, { timeout: 5_000 }).toBe(2);
      const logged = lines.filter((l) => l.includes('"message":"request"')).map((l) => JSON.parse(l) as { path: string; status: number });
      expect(logged.map((l) => [l.path, l.status])).toEqual(
        expect.arrayContaining([
          ['/v1/events', 200],
          ['/v1/workflows', 401],
        ]),
      );
      const secret = key.split('.')[1]!;
      for (const line of lines) expect(line).not.toContain(secret);
    } finally {
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    }
  });
});
