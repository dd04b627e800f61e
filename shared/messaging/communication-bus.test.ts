import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createManualClock } from '../adapters/memory/clock.system.js';
import { createMemoryEventBus, type MemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { defaultConfig } from '../config.js';
import { agentMessage, makeEvent } from '../events/index.js';
import { createIds } from '../adapters/memory/ids.js';
import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import type { Logger } from '../observability/logger.js';
import { createCommunicationBus, type CommunicationBusOptions, type CommunicationBus } from './communication-bus.js';
import { createStaticKeyStore, signMessage } from './message-auth.js';
import type { AgentMessage } from './message-schema.js';
import { bandGroupId, priorityTopics } from './priority-topics.js';
import { MessageTimeoutError } from './request-response.js';
import { tenancyFromDirectory } from './tenant-scope.js';

const keys = createStaticKeyStore({
  alice: 'k-alice-0123456789',
  bob: 'k-bob-0123456789',
  carol: 'k-carol-0123456789',
  boss: 'k-boss-0123456789',
  mallory: 'k-mallory-0123456789',
});
const open: { bus: CommunicationBus; events: MemoryEventBus }[] = [];
afterEach(async () => {
  for (const { bus, events } of open.splice(0)) {
    await bus.close();
    await events.close();
  }
});

function recordingLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  const at = (level: string) => (message: string, fields?: Record<string, unknown>) => void lines.push({ level, message, ...(fields ? { fields } : {}) });
  const logger: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
  return { logger, lines };
}

function setup(overrides: Partial<CommunicationBusOptions> = {}, config = defaultConfig()) {
  const events = createMemoryEventBus({ retryDelayMs: 5 });
  const bus = createCommunicationBus({ eventBus: events, keys, config, logger: recordingLogger().logger, ...overrides });
  open.push({ bus, events });
  return { events, bus };
}

const tick = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await tick(2);
  }
}

describe('communication bus: priority delivery (defect 4)', () => {
  it('handles a CRITICAL message published after 500 LOW ones before most of those still waiting', async () => {
    const { bus } = setup();
    const order: string[] = [];
    await bus.onMessage('bob', async (m) => {
      order.push(m.priority === 'CRITICAL' ? 'CRITICAL' : String(m.payload.n));
      await tick(0);
    });
    for (let n = 0; n < 500; n++)
      await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'SHARE_FINDINGS', priority: 'LOW', payload: { n } });
    // The recipient works while the LOW ones are sent (how far it got depends on the machine's load):
    // what matters is how many of those still waiting the CRITICAL one overtakes.
    const handledBefore = order.length;
    await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'ESCALATION', priority: 'CRITICAL' });
    await until(() => order.length === 501);
    expect(order.indexOf('CRITICAL') - handledBefore).toBeLessThan(Math.max(1, (500 - handledBefore) / 5));
    // The LOW ones keep their own order.
    const lows = order.filter((o) => o !== 'CRITICAL').map(Number);
    expect(lows).toEqual([...lows].sort((a, b) => a - b));
  });

  it('bounds each inbox by ORCHESTRATION_MESSAGE_QUEUE_MAX_SIZE: the broker holds the rest, and CRITICAL still overtakes', async () => {
    const { bus, events } = setup({ groupId: 'g-bounded' }, defaultConfig({ ORCHESTRATION_MESSAGE_QUEUE_MAX_SIZE: 10 }));
    const order: string[] = [];
    let maxQueued = 0;
    let maxLag = 0;
    await bus.onMessage('bob', async (m) => {
      maxQueued = Math.max(maxQueued, bus.getCommunicationMetrics().queueSize);
      maxLag = Math.max(maxLag, await events.lag(bandGroupId('g-bounded', 'LOW'), priorityTopics.LOW));
      order.push(m.priority);
      await tick(0);
    });
    for (let n = 0; n < 200; n++)
      await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'STATUS_UPDATE', priority: 'LOW', payload: { n } });
    // As above, the recipient works while the LOW ones are sent: count from those handled when CRITICAL is sent.
    const handledBefore = order.length;
    await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'ESCALATION', priority: 'CRITICAL' });
    await until(() => order.length === 201);
    expect(maxQueued).toBeLessThanOrEqual(10);
    expect(maxLag).toBeGreaterThan(100);
    expect(order.indexOf('CRITICAL') - handledBefore).toBeLessThan(Math.max(1, Math.min(50, (200 - handledBefore) / 4)));
  });
});

describe('communication bus: counting and latency (defect 4)', () => {
  it('delivers a redelivered message id once and counts it once', async () => {
    const { bus, events } = setup();
    const got: AgentMessage[] = [];
    await bus.onMessage('bob', (m) => void got.push(m));
    await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'SHARE_CONTEXT', priority: 'HIGH', payload: { x: 1 } });
    await until(() => got.length === 1);
    const [record] = await events.read(priorityTopics.HIGH);
    await events.publish(priorityTopics.HIGH, [{ key: 'bob', event: record!.value as never }], record!.headers);
    await tick(30);
    await bus.idle();
    expect(got).toHaveLength(1);
    expect(bus.getCommunicationMetrics()).toMatchObject({ totalSent: 1, delivered: 1, failed: 0, successRate: 1 });
  });

  it('measures latency from sentAt to handler completion', async () => {
    const { bus } = setup();
    await bus.onMessage('bob', () => tick(25));
    for (let i = 0; i < 4; i++) await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'STATUS_UPDATE', priority: 'URGENT' });
    await until(() => bus.getCommunicationMetrics().delivered === 4);
    const { latencyMs } = bus.getCommunicationMetrics();
    expect(latencyMs.p50).toBeGreaterThanOrEqual(24);
    expect(latencyMs.p99).toBeGreaterThanOrEqual(latencyMs.p50);
    // Handled one at a time: the last waited behind three others.
    expect(latencyMs.p99).toBeGreaterThanOrEqual(4 * 24);
    expect(latencyMs.average).toBeGreaterThan(24);
  });
});

describe('communication bus: authentication', () => {
  it('refuses a forged sender and an unsigned message, counting them as failed', async () => {
    const { logger, lines } = recordingLogger();
    const { bus, events } = setup({ logger });
    const got: AgentMessage[] = [];
    await bus.onMessage('bob', (m) => void got.push(m));
    const data = {
      messageId: 'm-forged',
      senderId: 'boss',
      recipientId: 'bob',
      messageType: 'APPROVAL_RESPONSE' as const,
      priority: 'HIGH' as const,
      payload: { approved: true },
      sentAt: new Date().toISOString(),
    };
    const forged = await signMessage(keys, { ...data, senderId: 'mallory' });
    const event = makeEvent(agentMessage, data, { ids: createIds(), clock: { now: () => Date.now() }, source: 'mallory' });
    await events.publish(priorityTopics.HIGH, [{ key: 'bob', event }], { 'amas-signature': forged });
    await events.publish(priorityTopics.HIGH, [{ key: 'bob', event: { ...event, id: 'e2', data: { ...data, messageId: 'm-unsigned' } } }]);
    await bus.sendMessage({ senderId: 'boss', recipientId: 'bob', messageType: 'APPROVAL_RESPONSE', priority: 'HIGH', payload: { approved: false } });
    await until(() => got.length === 1);
    expect(got[0]!.payload).toEqual({ approved: false });
    expect(bus.getCommunicationMetrics()).toMatchObject({ failed: 2, delivered: 1, failures: { unauthenticated: 2 } });
    expect(lines.filter((l) => l.message.startsWith('message refused'))).toHaveLength(2);
  });

  it('carries the signature in the event data, hides it from the handler, and refuses a forged one there too', async () => {
    const { bus, events } = setup();
    const got: AgentMessage[] = [];
    await bus.onMessage('bob', (m) => void got.push(m));
    await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'SHARE_CONTEXT', priority: 'NORMAL', payload: { x: 1 } });
    await until(() => got.length === 1);
    const [record] = await events.read(priorityTopics.NORMAL);
    const sent = record!.value as { data: AgentMessage };
    expect(sent.data.signature).toEqual(await signMessage(keys, got[0]!));
    expect(got[0]).not.toHaveProperty('signature');
    const data = {
      ...sent.data,
      messageId: 'm-forged-in-data',
      senderId: 'boss',
      signature: await signMessage(keys, { ...sent.data, messageId: 'm-forged-in-data', senderId: 'mallory' }),
    };
    await events.publish(priorityTopics.NORMAL, [{ key: 'bob', event: { ...(record!.value as object), id: 'e-forged', data } as never }]);
    await until(() => bus.getCommunicationMetrics().failed === 1);
    expect(got).toHaveLength(1);
    expect(bus.getCommunicationMetrics().failures).toEqual({ unauthenticated: 1 });
  });

  it('publishes the sends of one tick as one batch per band', async () => {
    const { bus, events } = setup();
    const batches: number[] = [];
    const publish = events.publish.bind(events);
    events.publish = async (topic, messages, headers) => {
      batches.push(messages.length);
      await publish(topic, messages, headers);
    };
    const got: AgentMessage[] = [];
    await bus.onMessage('bob', (m) => void got.push(m));
    await Promise.all(
      Array.from({ length: 50 }, (_, n) =>
        bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'STATUS_UPDATE', priority: 'LOW', payload: { n } }),
      ),
    );
    await until(() => got.length === 50);
    expect(batches).toEqual([50]);
    expect(bus.getCommunicationMetrics()).toMatchObject({ totalSent: 50, delivered: 50, failed: 0 });
  });

  it('drops a record that is not a valid agent.message, counting it as invalid', async () => {
    const { bus, events } = setup();
    const got: AgentMessage[] = [];
    await bus.onMessage('bob', (m) => void got.push(m));
    const data = {
      messageId: 'm-bad',
      senderId: 'alice',
      recipientId: 'bob',
      messageType: 'NOT_A_TYPE',
      priority: 'HIGH',
      payload: {},
      sentAt: new Date().toISOString(),
    };
    const event = makeEvent(agentMessage, data as never, { ids: createIds(), clock: { now: () => Date.now() }, source: 'alice' });
    await events.publish(priorityTopics.HIGH, [
      { key: 'bob', event },
      { key: 'bob', event: { ...event, id: 'e-other', type: 'subtask.ready' } },
    ]);
    await until(() => bus.getCommunicationMetrics().failed === 2);
    expect(got).toEqual([]);
    expect(bus.getCommunicationMetrics().failures).toEqual({ invalid: 2 });
    // Addressed to an inbox this process does not hold (on bob's partition, so it is read before the next): left to its process, unparsed.
    await events.publish(priorityTopics.HIGH, [{ key: 'bob', event: { ...event, id: 'e-elsewhere', data: { ...data, recipientId: 'zoe' } } }]);
    await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'STATUS_UPDATE', priority: 'HIGH' });
    await until(() => got.length === 1);
    expect(bus.getCommunicationMetrics().failures).toEqual({ invalid: 2 });
  });

  it('cannot send for an agent it holds no key for', async () => {
    const { bus } = setup();
    await expect(bus.sendMessage({ senderId: 'stranger', recipientId: 'bob', messageType: 'HEARTBEAT' })).rejects.toThrow(/no signing key/);
  });
});

describe('communication bus: fan-out', () => {
  it('sends a team message to each other member once', async () => {
    const { bus } = setup({ teamMembers: async (team) => (team === 'research' ? ['alice', 'bob', 'carol'] : []) });
    const got: string[] = [];
    for (const agent of ['alice', 'bob', 'carol']) await bus.onMessage(agent, (m) => void got.push(`${agent}:${m.team}`));
    const sent = await bus.sendMessage({ senderId: 'alice', team: 'research', messageType: 'COORDINATION_SYNC' });
    expect(sent.recipients).toEqual(['bob', 'carol']);
    await until(() => got.length === 2);
    await tick(20);
    expect(got.sort()).toEqual(['bob:research', 'carol:research']);
  });

  it("broadcasts to a topic's subscribers only, or to every inbox", async () => {
    const { bus } = setup();
    const got: string[] = [];
    for (const agent of ['alice', 'bob', 'carol']) await bus.onMessage(agent, (m) => void got.push(`${agent}:${m.topic}`));
    bus.subscribeTopic('bob', 'alerts');
    await bus.sendMessage({ senderId: 'alice', broadcast: 'alerts', messageType: 'ERROR_REPORT' });
    await bus.sendMessage({ senderId: 'alice', broadcast: true, messageType: 'SHUTDOWN_NOTICE' });
    await until(() => got.length === 3);
    await tick(20);
    expect(got.sort()).toEqual(['bob:*', 'bob:alerts', 'carol:*']);
    expect(bus.getCommunicationMetrics()).toMatchObject({ broadcastTopics: ['alerts'], activeChannels: 3, delivered: 3 });
  });

  it('refuses an input naming no target or two', async () => {
    const { bus } = setup();
    await expect(bus.sendMessage({ senderId: 'alice', messageType: 'HEARTBEAT' })).rejects.toThrow(/exactly one/);
    await expect(bus.sendMessage({ senderId: 'alice', recipientId: 'bob', team: 't', messageType: 'HEARTBEAT' })).rejects.toThrow(/exactly one/);
  });
});

describe('communication bus: tenants (issue 12)', () => {
  // alice and bob work for acme, carol for beta, boss for every tenant; mallory holds a key but the directory does not list her.
  async function tenants() {
    const directory = createMemoryAgentDirectory();
    const agent = (id: string, tenant?: string) => ({
      id,
      layer: 'SPECIALIST' as const,
      specialties: ['data_analyst' as const],
      capacity: 3,
      demo: false,
      ...(tenant ? { tenant } : {}),
    });
    for (const [id, tenant] of [
      ['alice', 'acme'],
      ['bob', 'acme'],
      ['carol', 'beta'],
      ['boss', undefined],
    ] as const)
      await directory.register(agent(id, tenant), 0);
    const { bus } = setup({ tenancyOf: tenancyFromDirectory(directory), teamMembers: async () => ['alice', 'bob', 'carol', 'boss', 'mallory'] });
    const got: string[] = [];
    for (const id of ['alice', 'bob', 'carol', 'boss', 'mallory']) await bus.onMessage(id, (m) => void got.push(`${m.senderId}>${id}:${m.messageType}`));
    return { bus, got };
  }

  it("a tenant's agent reaches its tenant's and the shared agents; another tenant's agent is not found, exactly like one that does not exist", async () => {
    const { bus, got } = await tenants();
    await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'SHARE_FINDINGS' });
    await bus.sendMessage({ senderId: 'alice', recipientId: 'boss', messageType: 'ESCALATION' });
    const refusals = await Promise.all(
      ['carol', 'mallory', 'nobody'].map((recipientId) =>
        bus.sendMessage({ senderId: 'alice', recipientId, messageType: 'SHARE_FINDINGS' }).then(
          () => null,
          (error: unknown) => error,
        ),
      ),
    );
    for (const [i, id] of ['carol', 'mallory', 'nobody'].entries()) expect(refusals[i]).toMatchObject({ code: 'NOT_FOUND', message: `agent ${id} not found` });
    // A shared agent, and an unlisted sender (the orchestrator, a process holding the secret), reach every tenant.
    await bus.sendMessage({ senderId: 'boss', recipientId: 'carol', messageType: 'TASK_STARTED' });
    await bus.sendMessage({ senderId: 'mallory', recipientId: 'carol', messageType: 'STATUS_UPDATE' });
    await until(() => got.length === 4);
    await tick(20);
    expect(got.sort()).toEqual(['alice>bob:SHARE_FINDINGS', 'alice>boss:ESCALATION', 'boss>carol:TASK_STARTED', 'mallory>carol:STATUS_UPDATE']);
    expect(bus.getCommunicationMetrics().totalSent).toBe(4);
  });

  it("filters a team message's and a broadcast's recipients by the sender's tenant", async () => {
    const { bus, got } = await tenants();
    expect((await bus.sendMessage({ senderId: 'alice', team: 'analysis', messageType: 'COORDINATION_SYNC' })).recipients).toEqual(['bob', 'boss']);
    expect((await bus.sendMessage({ senderId: 'boss', team: 'analysis', messageType: 'COORDINATION_SYNC' })).recipients).toEqual([
      'alice',
      'bob',
      'carol',
      'mallory',
    ]);
    bus.subscribeTopic('carol', 'alerts');
    bus.subscribeTopic('bob', 'alerts');
    await bus.sendMessage({ senderId: 'alice', broadcast: 'alerts', messageType: 'ERROR_REPORT' });
    await bus.sendMessage({ senderId: 'carol', broadcast: true, messageType: 'SHUTDOWN_NOTICE' });
    await until(() => got.length === 2 + 4 + 1 + 1);
    await tick(20);
    expect(got.filter((g) => g.endsWith('COORDINATION_SYNC')).sort()).toEqual(
      ['alice>bob', 'alice>boss', 'boss>alice', 'boss>bob', 'boss>carol', 'boss>mallory'].map((g) => `${g}:COORDINATION_SYNC`),
    );
    expect(got.filter((g) => !g.endsWith('COORDINATION_SYNC')).sort()).toEqual(['alice>bob:ERROR_REPORT', 'carol>boss:SHUTDOWN_NOTICE']);
  });
});

describe('communication bus: request / response', () => {
  it('resolves a request with the reply carrying its correlation id', async () => {
    const { bus } = setup();
    await bus.onMessage('bob', async (m, ctx) => void (await ctx.reply({ answer: Number(m.payload.q) * 2 }, { messageType: 'HELP_RESPONSE' })));
    await bus.onMessage('alice', () => undefined);
    const reply = await bus.request({ senderId: 'alice', recipientId: 'bob', messageType: 'REQUEST_HELP', priority: 'URGENT', payload: { q: 21 } });
    expect(reply).toMatchObject({ senderId: 'bob', recipientId: 'alice', messageType: 'HELP_RESPONSE', payload: { answer: 42 } });
    expect(bus.getCommunicationMetrics().pendingRequests).toBe(0);
  });

  it("retries ORCHESTRATION_MESSAGE_RETRIES times, then escalates to the sender's supervisor and rejects", async () => {
    const { bus } = setup({ supervisorOf: async (id) => (id === 'alice' ? 'boss' : null) }, defaultConfig({ ORCHESTRATION_MESSAGE_RETRIES: 2 }));
    const attempts: AgentMessage[] = [];
    const escalations: AgentMessage[] = [];
    await bus.onMessage('bob', (m) => void attempts.push(m));
    await bus.onMessage('alice', () => undefined);
    await bus.onMessage('boss', (m) => void escalations.push(m));
    const started = Date.now();
    await expect(
      bus.request({ senderId: 'alice', recipientId: 'bob', messageType: 'APPROVAL_REQUEST', priority: 'HIGH', timeoutMs: 40 }),
    ).rejects.toBeInstanceOf(MessageTimeoutError);
    expect(Date.now() - started).toBeGreaterThanOrEqual(3 * 40 - 5);
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts.map((a) => a.messageId)).size).toBe(3);
    expect(new Set(attempts.map((a) => a.correlationId)).size).toBe(1);
    await until(() => escalations.length === 1);
    expect(escalations[0]).toMatchObject({
      senderId: 'alice',
      messageType: 'ESCALATION',
      priority: 'URGENT',
      payload: { reason: 'request_timeout', recipientId: 'bob', attempts: 3 },
    });
    expect(bus.getCommunicationMetrics().failures).toMatchObject({ request_timeout: 1 });
  });

  it('accepts a late reply to an earlier attempt while retrying', async () => {
    const { bus } = setup({}, defaultConfig({ ORCHESTRATION_MESSAGE_RETRIES: 3 }));
    let seen = 0;
    await bus.onMessage('bob', async (m, ctx) => {
      if (++seen === 2) await ctx.reply({ ok: true, attempt: seen });
    });
    await bus.onMessage('alice', () => undefined);
    const reply = await bus.request({ senderId: 'alice', recipientId: 'bob', messageType: 'QUALITY_CHECK_REQUEST', timeoutMs: 30 });
    expect(reply.payload).toEqual({ ok: true, attempt: 2 });
  });
});

describe('communication bus: backlog thresholds (defect 9)', () => {
  it('raises a log line, the backlog gauge and the readiness level at warning and critical', async () => {
    const { logger, lines } = recordingLogger();
    const registry = new Registry();
    const config = defaultConfig({ ORCHESTRATION_MESSAGE_BACKLOG_WARNING: 5, ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL: 10 });
    const { bus } = setup({ logger, registry }, config);
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    await bus.onMessage('bob', () => gate);
    expect(bus.backlogLevel()).toBe('ok');
    for (let i = 0; i < 7; i++) await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'STATUS_UPDATE' });
    await until(() => bus.getCommunicationMetrics().queueSize === 6);
    expect(bus.backlogLevel()).toBe('warning');
    for (let i = 0; i < 5; i++) await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'STATUS_UPDATE' });
    await until(() => bus.getCommunicationMetrics().queueSize === 11);
    expect(bus.backlogLevel()).toBe('critical');
    expect(bus.getCommunicationMetrics()).toMatchObject({ backlog: { bob: 11 }, pendingDeliveries: 12, backlogLevel: 'critical' });
    expect(await registry.getSingleMetricAsString('orchestration_message_backlog')).toContain('orchestration_message_backlog{recipient="bob"} 11');
    expect(lines.map((l) => `${l.level}:${l.message}`)).toEqual(expect.arrayContaining(['warn:message backlog warning', 'error:message backlog critical']));
    release();
    await until(() => bus.getCommunicationMetrics().delivered === 12);
    expect(bus.backlogLevel()).toBe('ok');
  });

  it("drops a message that waited past its priority's response timeout, as failed", async () => {
    const clock = createManualClock(Date.parse('2026-01-01T00:00:00Z'));
    const { bus } = setup({ clock });
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const got: string[] = [];
    await bus.onMessage('bob', async (m) => {
      got.push(m.priority);
      if (m.priority === 'LOW') await gate;
    });
    await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'STATUS_UPDATE', priority: 'LOW' });
    await until(() => got.length === 1);
    await bus.sendMessage({ senderId: 'alice', recipientId: 'bob', messageType: 'ESCALATION', priority: 'CRITICAL' });
    await until(() => bus.getCommunicationMetrics().queueSize === 1);
    clock.advance(31_000);
    release();
    await bus.idle();
    expect(got).toEqual(['LOW']);
    expect(bus.getCommunicationMetrics()).toMatchObject({ delivered: 1, failed: 1, failures: { expired: 1 } });
  });
});
