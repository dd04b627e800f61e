import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { ApiKeyRecord, ApiKeyStore } from '../../ports/api-key-store.port.js';
import { allTenants, roleSchema, type Principal, type Role } from './principal.js';

/** `amk_<id>.<secret>`: the id finds the row, the 32-byte secret is checked against its hash. */
const keyPattern = /^amk_([0-9a-f]{16})\.([A-Za-z0-9_-]{43})$/;

const sha256 = (text: string): Buffer => createHash('sha256').update(text, 'utf8').digest();

export const looksLikeApiKey = (token: string): boolean => token.startsWith('amk_');

export interface NewApiKey {
  role: Role;
  tenant: string;
  name?: string | null;
  agentId?: string | null;
  createdBy: string;
  now: Date;
}

/** Creates a key; the returned `key` is the only time its secret exists outside the caller. */
export async function issueApiKey(store: ApiKeyStore, input: NewApiKey): Promise<{ key: string; record: ApiKeyRecord }> {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const record = await store.create({
    id,
    secretHash: sha256(secret).toString('hex'),
    name: input.name ?? null,
    role: input.role,
    tenant: input.tenant,
    agentId: input.agentId ?? null,
    createdBy: input.createdBy,
    createdAt: input.now.toISOString(),
  });
  return { key: `amk_${id}.${secret}`, record };
}

/** The principal of a live key, or null (unknown, wrong secret, revoked, malformed). Read on every request: a revocation holds at once. */
export async function verifyApiKey(store: ApiKeyStore, token: string): Promise<Principal | null> {
  const match = keyPattern.exec(token);
  if (!match) return null;
  const stored = await store.find(match[1]!);
  if (!stored || stored.revokedAt !== null) return null;
  const expected = Buffer.from(stored.secretHash, 'hex');
  const given = sha256(match[2]!);
  if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
  const role = roleSchema.safeParse(stored.role);
  if (!role.success) return null;
  return {
    subject: `key:${stored.id}`,
    roles: [role.data],
    tenant: stored.tenant,
    credential: `key:${stored.id}`,
    via: 'key',
    ...(stored.agentId ? { agentId: stored.agentId } : {}),
  };
}

/** AMAS_ADMIN_KEY, compared in constant time (as digests, so lengths do not leak either). */
export function adminKeyVerifier(adminKey: string | undefined): (token: string) => Principal | null {
  if (!adminKey) return () => null;
  const expected = sha256(adminKey);
  return (token) =>
    timingSafeEqual(expected, sha256(token)) ? { subject: 'admin-key', roles: ['admin'], tenant: allTenants, credential: 'admin-key', via: 'admin-key' } : null;
}
