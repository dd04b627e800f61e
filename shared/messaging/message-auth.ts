import { createHmac, timingSafeEqual } from 'node:crypto';
import { OrchestrationError } from '../errors.js';

/** Where each agent's HMAC key lives (memory, a secret manager, Vault ...). Null: an unknown agent. */
export interface AgentKeyStore {
  keyOf(agentId: string): Promise<string | null>;
}

/** Keys derived from one deployment secret: every process holding the secret can sign and verify. */
export function createDerivedKeyStore(secret: string): AgentKeyStore {
  if (secret.length < 16) throw new OrchestrationError('CONFIG_INVALID', 'the message signing secret needs at least 16 characters');
  // A key is a pure function of the secret and the id: remembered, so verifying a record costs one HMAC, not two.
  const known = new Map<string, string>();
  return {
    keyOf: async (agentId) => {
      let key = known.get(agentId);
      if (key === undefined) {
        key = createHmac('sha256', secret).update(`agent-key:${agentId}`).digest('base64url');
        if (known.size >= 100_000) known.clear();
        known.set(agentId, key);
      }
      return key;
    },
  };
}

/** Explicit per-agent keys (tests, or keys provisioned one by one). */
export function createStaticKeyStore(keys: Record<string, string>): AgentKeyStore {
  return { keyOf: async (agentId) => keys[agentId] ?? null };
}

/** What a signature covers: every field that decides who gets what from whom, and when. */
export interface SignedFields {
  messageId: string;
  senderId: string;
  recipientId?: string | undefined;
  team?: string | undefined;
  /** The broadcast topic, when broadcast. */
  topic?: string | undefined;
  messageType: string;
  priority: string;
  payload: unknown;
  correlationId?: string | undefined;
  sentAt: string;
}

/** JSON with object keys sorted at every depth, so the same message always encodes to the same bytes. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  // Plain loops and string concatenation: this runs twice per message (sign, verify) on the hot path.
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + canonicalJson(value[i]);
    return `${out}]`;
  }
  const object = value as Record<string, unknown>;
  const keys = Object.keys(object).sort();
  let out = '{';
  for (const key of keys) {
    const v = object[key];
    if (v === undefined) continue;
    out += `${out.length === 1 ? '' : ','}${JSON.stringify(key)}:${canonicalJson(v)}`;
  }
  return `${out}}`;
}

export function canonicalMessage(m: SignedFields): string {
  return canonicalJson([
    m.messageId,
    m.senderId,
    m.recipientId ?? null,
    m.team ?? null,
    m.topic ?? null,
    m.messageType,
    m.priority,
    m.payload,
    m.correlationId ?? null,
    m.sentAt,
  ]);
}

const hmac = (key: string, text: string): string => createHmac('sha256', key).update(text).digest('base64url');

const sameText = (a: string, b: string): boolean => {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
};

export async function signMessage(keys: AgentKeyStore, fields: SignedFields): Promise<string> {
  const key = await keys.keyOf(fields.senderId);
  if (!key) throw new OrchestrationError('UNAUTHENTICATED', `no signing key for agent ${fields.senderId}`);
  return hmac(key, canonicalMessage(fields));
}

/** True only for a signature made with the claimed sender's own key over exactly these fields. */
export async function verifyMessage(keys: AgentKeyStore, fields: SignedFields, signature: string | undefined): Promise<boolean> {
  if (!signature) return false;
  const key = await keys.keyOf(fields.senderId);
  return key !== null && sameText(hmac(key, canonicalMessage(fields)), signature);
}

const b64 = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** A compact HS256 JWT whose subject is the agent, signed with that agent's key. */
export async function issueAgentToken(keys: AgentKeyStore, agentId: string, nowMs: number, ttlSeconds = 3600): Promise<string> {
  const key = await keys.keyOf(agentId);
  if (!key) throw new OrchestrationError('UNAUTHENTICATED', `no key for agent ${agentId}`);
  const iat = Math.floor(nowMs / 1000);
  const unsigned = `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64({ sub: agentId, iat, exp: iat + ttlSeconds })}`;
  return `${unsigned}.${hmac(key, unsigned)}`;
}

/** The agent a token authenticates, or null when it is malformed, forged or expired. */
export async function verifyAgentToken(keys: AgentKeyStore, token: string, nowMs: number): Promise<string | null> {
  const [header, body, signature, ...rest] = token.split('.');
  if (!header || !body || !signature || rest.length > 0) return null;
  let claims: { sub?: unknown; exp?: unknown };
  try {
    const alg = (JSON.parse(Buffer.from(header, 'base64url').toString()) as { alg?: unknown }).alg;
    if (alg !== 'HS256') return null;
    claims = JSON.parse(Buffer.from(body, 'base64url').toString()) as typeof claims;
  } catch {
    return null;
  }
  if (typeof claims.sub !== 'string' || typeof claims.exp !== 'number' || claims.exp * 1000 <= nowMs) return null;
  const key = await keys.keyOf(claims.sub);
  return key !== null && sameText(hmac(key, `${header}.${body}`), signature) ? claims.sub : null;
}
