import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlApiKeyStore } from '../../shared/adapters/sql/api-keys.sql.js';
import { runMigrations } from '../../shared/adapters/sql/migrations.js';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import { loadInfra } from '../../shared/env.js';
import { apiAuthFromInfra } from '../../shared/http-api/auth/from-infra.js';
import { findBadText } from '../../shared/http-api/input-guards.js';
import { startEmbedded, type Embedded, type InvalidBody } from './helpers/embedded.js';

let api: Embedded;
beforeAll(async () => {
  api = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5' });
});
afterAll(async () => {
  await api?.stop();
});

/** A raw HTTP request: the path goes out byte for byte (no URL normalisation), any headers. */
function raw(
  method: string,
  path: string,
  headers: Record<string, string> = {},
  body?: string,
): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  const url = new URL(api.baseUrl);
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: url.hostname,
        port: url.port,
        method,
        path,
        headers: { ...headers, ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }) },
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'content-type': 'application/json' };

describe('text that cannot be stored answers 400 naming its path (was 500)', () => {
  it.each([
    ['a NUL in the description', { description: 'Research\u0000 trends' }, 'description'],
    ['a NUL in nested metadata', { description: 'Research trends', metadata: { source: { note: 'a\u0000b' } } }, 'metadata.source.note'],
    ['a lone high surrogate', { description: 'Research \ud800 trends' }, 'description'],
    ['a lone low surrogate in an array', { description: 'Research trends', metadata: { tags: ['ok', 'x\udc00'] } }, 'metadata.tags.1'],
    ['a NUL in a key', { description: 'Research trends', metadata: { 'bad\u0000key': 1 } }, 'metadata.bad\u0000key'],
  ])('%s', async (_label, body, path) => {
    // JSON.stringify escapes lone surrogates (\ud800), so they arrive exactly as a client would send them.
    const answer = await raw('POST', '/v1/tasks', json, JSON.stringify(body));
    expect(answer.status).toBe(400);
    const parsed = JSON.parse(answer.body) as InvalidBody;
    expect(parsed.error).toBe('invalid_request');
    expect(parsed.issues[0]!.path).toBe(path);
  });

  it('accepts a proper surrogate pair (an emoji) and other Unicode', async () => {
    const answer = await raw('POST', '/v1/tasks', json, JSON.stringify({ description: 'Research trends 📈 — café', metadata: { note: '日本' } }));
    expect(answer.status).toBe(202);
  });

  it('a NUL in a command body (reject reason) is a 400 too', async () => {
    const answer = await raw('POST', '/v1/workflows/wf_nope/reject', json, JSON.stringify({ reason: 'no\u0000' }));
    expect(answer.status).toBe(400);
    expect((JSON.parse(answer.body) as InvalidBody).issues[0]!.path).toBe('reason');
  });

  it('walks deep bodies without recursion', () => {
    let deep: unknown = 'x\u0000';
    for (let i = 0; i < 50_000; i++) deep = [deep];
    expect(findBadText(deep)?.path.split('.').length).toBe(50_000);
  });
});

describe('paths', () => {
  it.each([
    ['/v1/workflows/%E0%A4%A', 'malformed percent-encoding'],
    ['/v1/workflows/%', 'malformed percent-encoding'],
    ['/v1/workflows/%zz/events', 'malformed percent-encoding'],
    ['/v1/workflows/wf%00x', 'NUL'],
    ['/v1/workflows/%ED%A0%80', 'malformed percent-encoding'],
  ])('%s answers 400 (was 500)', async (path, message) => {
    const answer = await raw('GET', path);
    expect(answer.status).toBe(400);
    expect(answer.body).toContain(message);
  });

  it('well-formed encodings still route (404 for an unknown id)', async () => {
    expect((await raw('GET', '/v1/workflows/wf%20unknown')).status).toBe(404);
  });
});

describe('commands take JSON only (415), so a cross-site form cannot send one', () => {
  it.each([
    ['POST', '/v1/tasks', 'application/x-www-form-urlencoded', 'description=Research+trends'],
    ['POST', '/v1/tasks', 'text/plain', '{"description":"Research trends"}'],
    ['POST', '/v1/tasks', 'multipart/form-data; boundary=x', '--x\r\nContent-Disposition: form-data; name="description"\r\n\r\nResearch\r\n--x--\r\n'],
    ['POST', '/v1/workflows/wf_any/cancel', 'application/x-www-form-urlencoded', 'reason=x'],
    ['POST', '/v1/workflows/wf_any/approve', 'text/plain', ''],
    ['POST', '/v1/dead-letters/any/redrive', 'text/plain', 'x'],
    ['POST', '/v1/keys', 'application/x-www-form-urlencoded', 'role=admin&tenant=*'],
  ])('%s %s with %s is a 415', async (method, path, type, body) => {
    const answer = await raw(method, path, { 'content-type': type }, body);
    expect(answer.status).toBe(415);
    expect(JSON.parse(answer.body)).toMatchObject({ error: 'unsupported_media_type' });
  });

  it('a body without a content type is a 415; a bodyless command from another site is a 403, from a non-browser it is served', async () => {
    expect((await raw('POST', '/v1/tasks', {}, '{"description":"Research trends"}')).status).toBe(415);
    expect((await raw('POST', '/v1/workflows/wf_nope/cancel', { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    expect((await raw('POST', '/v1/workflows/wf_nope/cancel')).status).toBe(404);
    expect((await raw('POST', '/v1/workflows/wf_nope/cancel', { 'content-type': 'application/json; charset=utf-8' }, '{}')).status).toBe(404);
  });
});

describe('rate limits per credential', () => {
  it('answers 429 with Retry-After past the burst, to that credential only', async () => {
    const db = await createPgliteClient();
    await runMigrations(db);
    const admin = 'rate-limit-admin-key-0123456789';
    const limited = await startEmbedded(
      {},
      {
        auth: apiAuthFromInfra(loadInfra({ AMAS_AUTH: 'keys', AMAS_ADMIN_KEY: admin, AMAS_RATE_LIMIT_PER_SECOND: '0.5', AMAS_RATE_LIMIT_BURST: '3' }), {
          keys: createSqlApiKeyStore(db),
        }),
      },
    );
    try {
      const get = (token: string) => fetch(`${limited.baseUrl}/v1/workflows`, { headers: { authorization: `Bearer ${token}` } });
      const created = await fetch(`${limited.baseUrl}/v1/keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${admin}`, ...json },
        body: JSON.stringify({ role: 'operator', tenant: 'acme' }),
      });
      const { key } = (await created.json()) as { key: string };
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await get(key)).status);
      expect(statuses).toEqual([200, 200, 200, 429]);
      const refused = await get(key);
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      // Another credential has its own bucket (the admin used one token to create the key).
      expect((await get(admin)).status).toBe(200);
    } finally {
      await limited.stop();
      await db.close();
    }
  });
});
