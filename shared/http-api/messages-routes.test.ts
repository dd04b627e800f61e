import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import { createMemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { defaultConfig } from '../config.js';
import { createCommunicationBus } from '../messaging/communication-bus.js';
import { createDerivedKeyStore, issueAgentToken } from '../messaging/message-auth.js';
import type { AgentMessage } from '../messaging/message-schema.js';
import { tenancyFromDirectory } from '../messaging/tenant-scope.js';
import { silentLogger } from '../observability/logger.js';
import { errorHandler } from './errors.js';
import { createMessagesRouter } from './messages-routes.js';

const keys = createDerivedKeyStore('route-test-secret-0123456789');
const events = createMemoryEventBus();
const bus = createCommunicationBus({ eventBus: events, keys, config: defaultConfig(), logger: silentLogger });
const got: AgentMessage[] = [];
let base = '';
let server: ReturnType<ReturnType<typeof express>['listen']>;

beforeAll(async () => {
  const app = express();
  app.use(express.json());
  app.use(createMessagesRouter(bus, { keys }));
  app.use(errorHandler(silentLogger));
  server = app.listen(0);
  await new Promise((r) => server.once('listening', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  await bus.onMessage('bob', (m) => void got.push(m));
});
afterAll(async () => {
  server.close();
  await bus.close();
  await events.close();
});

const post = (body: unknown, token?: string) =>
  fetch(`${base}/v1/messages`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  });

describe('POST /v1/messages', () => {
  it('sends as the agent the token authenticates', async () => {
    const token = await issueAgentToken(keys, 'alice', Date.now());
    const res = await post({ senderId: 'alice', recipientId: 'bob', messageType: 'SHARE_FINDINGS', priority: 'HIGH', payload: { n: 1 } }, token);
    expect(res.status).toBe(202);
    const body = (await res.json()) as { messageId: string; recipients: string[] };
    expect(body.recipients).toEqual(['bob']);
    await bus.idle();
    for (let i = 0; i < 100 && got.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    expect(got.map((m) => [m.messageId, m.senderId])).toEqual([[body.messageId, 'alice']]);
  });

  it("refuses a missing or forged token (401) and a sender other than the token's agent (403)", async () => {
    const message = { senderId: 'boss', recipientId: 'bob', messageType: 'APPROVAL_RESPONSE', payload: {} };
    expect((await post(message)).status).toBe(401);
    expect((await post(message, 'x.y.z')).status).toBe(401);
    const mallory = await issueAgentToken(keys, 'mallory', Date.now());
    const res = await post(message, mallory);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ error: 'forbidden' });
  });

  it('answers 400 naming the problem in a bad body', async () => {
    const token = await issueAgentToken(keys, 'alice', Date.now());
    const res = await post({ senderId: 'alice', recipientId: 'bob', messageType: 'NOPE' }, token);
    expect(res.status).toBe(400);
    expect(JSON.stringify(await res.json())).toContain('messageType');
  });
});

describe('GET /v1/messages/metrics', () => {
  it('reports the communication metrics', async () => {
    const res = await fetch(`${base}/v1/messages/metrics`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ totalSent: 1, delivered: 1, activeChannels: 1, backlogLevel: 'ok' });
  });
});

describe('POST /v1/messages across tenants', () => {
  const directory = createMemoryAgentDirectory();
  const scopedEvents = createMemoryEventBus();
  const scoped = createCommunicationBus({
    eventBus: scopedEvents,
    keys,
    config: defaultConfig(),
    logger: silentLogger,
    tenancyOf: tenancyFromDirectory(directory),
  });
  const delivered: string[] = [];
  let url = '';
  let scopedServer: ReturnType<ReturnType<typeof express>['listen']>;

  beforeAll(async () => {
    const agent = (id: string, tenant: string) => ({
      id,
      layer: 'SPECIALIST' as const,
      specialties: ['data_analyst' as const],
      capacity: 3,
      demo: false,
      tenant,
    });
    await directory.register(agent('acme-1', 'acme'), Date.now());
    await directory.register(agent('acme-2', 'acme'), Date.now());
    await directory.register(agent('beta-1', 'beta'), Date.now());
    for (const id of ['acme-2', 'beta-1']) await scoped.onMessage(id, (m) => void delivered.push(`${m.senderId}>${id}`));
    const app = express();
    app.use(express.json());
    app.use(createMessagesRouter(scoped, { keys }));
    app.use(errorHandler(silentLogger));
    scopedServer = app.listen(0);
    await new Promise((r) => scopedServer.once('listening', r));
    url = `http://127.0.0.1:${(scopedServer.address() as AddressInfo).port}/v1/messages`;
  });
  afterAll(async () => {
    scopedServer.close();
    await scoped.close();
    await scopedEvents.close();
  });

  const send = async (senderId: string, recipientId: string) => {
    const token = await issueAgentToken(keys, senderId, Date.now());
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ senderId, recipientId, messageType: 'SHARE_FINDINGS' }),
    });
    return { status: res.status, body: (await res.json()) as { error?: string; message?: string } };
  };

  it("answers 404 for another tenant's agent, exactly as for an agent that does not exist, and delivers within the tenant", async () => {
    const foreign = await send('acme-1', 'beta-1');
    const missing = await send('acme-1', 'beta-9');
    expect(foreign).toEqual({ status: 404, body: { error: 'not_found', message: 'agent beta-1 not found' } });
    expect(missing).toEqual({ status: 404, body: { error: 'not_found', message: 'agent beta-9 not found' } });
    expect((await send('acme-1', 'acme-2')).status).toBe(202);
    await scoped.idle();
    for (let i = 0; i < 100 && delivered.length === 0; i++) await new Promise((r) => setTimeout(r, 5));
    await new Promise((r) => setTimeout(r, 20));
    expect(delivered).toEqual(['acme-1>acme-2']);
  });
});
