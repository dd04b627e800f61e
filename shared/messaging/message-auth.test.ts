import { describe, expect, it } from 'vitest';
import { canonicalJson, createDerivedKeyStore, issueAgentToken, signMessage, verifyAgentToken, verifyMessage } from './message-auth.js';
import { responseTimeoutMs } from './priority-topics.js';

const keys = createDerivedKeyStore('a-deployment-secret-of-some-length');
const fields = {
  messageId: 'm1',
  senderId: 'alice',
  recipientId: 'bob',
  messageType: 'SHARE_FINDINGS',
  priority: 'HIGH',
  payload: { b: 1, a: [1, { d: 2, c: 3 }] },
  sentAt: '2026-01-01T00:00:00.000Z',
};

describe('message signatures', () => {
  it('encodes objects canonically, whatever their key order', () => {
    expect(canonicalJson({ b: 1, a: { d: 2, c: [3, { f: 1, e: 2 }] } })).toBe('{"a":{"c":[3,{"e":2,"f":1}],"d":2},"b":1}');
  });

  it("verifies the sender's own signature and refuses any changed field or another agent's key", async () => {
    const signature = await signMessage(keys, fields);
    expect(await verifyMessage(keys, { ...fields, payload: { a: [1, { c: 3, d: 2 }], b: 1 } }, signature)).toBe(true);
    for (const changed of [{ recipientId: 'carol' }, { priority: 'CRITICAL' }, { payload: { b: 2 } }, { sentAt: '2026-01-01T00:00:01.000Z' }, { topic: 'x' }]) {
      expect(await verifyMessage(keys, { ...fields, ...changed }, signature)).toBe(false);
    }
    const mallorys = await signMessage(keys, { ...fields, senderId: 'mallory' });
    expect(await verifyMessage(keys, fields, mallorys)).toBe(false);
    expect(await verifyMessage(keys, fields, undefined)).toBe(false);
  });
});

describe('agent tokens', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('authenticates the agent it was issued to until it expires', async () => {
    const token = await issueAgentToken(keys, 'alice', now, 60);
    expect(token.split('.')).toHaveLength(3);
    expect(await verifyAgentToken(keys, token, now + 59_000)).toBe('alice');
    expect(await verifyAgentToken(keys, token, now + 60_000)).toBeNull();
  });

  it('refuses a token whose subject was changed, or one that is malformed', async () => {
    const [header, , signature] = (await issueAgentToken(keys, 'alice', now)).split('.');
    const body = Buffer.from(JSON.stringify({ sub: 'boss', iat: 0, exp: 9e9 })).toString('base64url');
    expect(await verifyAgentToken(keys, `${header}.${body}.${signature}`, now)).toBeNull();
    expect(await verifyAgentToken(keys, 'not-a-token', now)).toBeNull();
    expect(await verifyAgentToken(keys, 'a.b.c', now)).toBeNull();
  });
});

describe('response timeouts', () => {
  it('takes the priority default capped by ORCHESTRATION_MESSAGE_TIMEOUT, unless a timeout is explicit', () => {
    expect(responseTimeoutMs('CRITICAL', 300)).toBe(30_000);
    expect(responseTimeoutMs('URGENT', 300)).toBe(60_000);
    expect(responseTimeoutMs('HIGH', 300)).toBe(180_000);
    expect(responseTimeoutMs('NORMAL', 300)).toBe(300_000);
    expect(responseTimeoutMs('LOW', 300)).toBe(300_000);
    expect(responseTimeoutMs('LOW', 900)).toBe(600_000);
    expect(responseTimeoutMs('CRITICAL', 10)).toBe(10_000);
    expect(responseTimeoutMs('CRITICAL', 10, 45_000)).toBe(45_000);
  });
});
