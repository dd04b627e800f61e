import type { ApiKeyRecord, ApiKeyStore, StoredApiKey } from '../../ports/api-key-store.port.js';
import type { SqlClient } from './sql-client.js';

/** Migration 7: API keys, stored as the sha256 of their secret. */
export const apiKeyStatements: readonly string[] = [
  `CREATE TABLE api_keys (
    id            text PRIMARY KEY,
    secret_sha256 text NOT NULL,
    name          text,
    role          text NOT NULL,
    tenant        text NOT NULL,
    agent_id      text,
    created_by    text NOT NULL,
    created_at    timestamptz NOT NULL,
    revoked_at    timestamptz
  )`,
  `CREATE INDEX api_keys_tenant_idx ON api_keys (tenant, created_at DESC)`,
];

interface ApiKeyRow {
  id: string;
  secret_sha256: string;
  name: string | null;
  role: string;
  tenant: string;
  agent_id: string | null;
  created_by: string;
  created_at: Date | string;
  revoked_at: Date | string | null;
}

const iso = (value: Date | string): string => (value instanceof Date ? value : new Date(value)).toISOString();

const toRecord = (row: ApiKeyRow): ApiKeyRecord => ({
  id: row.id,
  name: row.name,
  role: row.role,
  tenant: row.tenant,
  agentId: row.agent_id,
  createdBy: row.created_by,
  createdAt: iso(row.created_at),
  revokedAt: row.revoked_at === null ? null : iso(row.revoked_at),
});

const COLUMNS = 'id, secret_sha256, name, role, tenant, agent_id, created_by, created_at, revoked_at';

export function createSqlApiKeyStore(client: SqlClient): ApiKeyStore {
  return {
    async create(key) {
      const { rows } = await client.query<ApiKeyRow>(
        `INSERT INTO api_keys (id, secret_sha256, name, role, tenant, agent_id, created_by, created_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8::timestamptz) RETURNING ${COLUMNS}`,
        [key.id, key.secretHash, key.name, key.role, key.tenant, key.agentId, key.createdBy, key.createdAt],
      );
      return toRecord(rows[0]!);
    },
    async find(id) {
      const { rows } = await client.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
      const [row] = rows;
      return row ? ({ ...toRecord(row), secretHash: row.secret_sha256 } satisfies StoredApiKey) : null;
    },
    async list(tenant) {
      const { rows } = await client.query<ApiKeyRow>(
        `SELECT ${COLUMNS} FROM api_keys WHERE ($1::text IS NULL OR tenant = $1::text) ORDER BY created_at DESC, id`,
        [tenant ?? null],
      );
      return rows.map(toRecord);
    },
    async revoke(id, at) {
      await client.query('UPDATE api_keys SET revoked_at = $2::timestamptz WHERE id = $1 AND revoked_at IS NULL', [id, at]);
      const { rows } = await client.query<ApiKeyRow>(`SELECT ${COLUMNS} FROM api_keys WHERE id = $1`, [id]);
      return rows[0] ? toRecord(rows[0]) : null;
    },
  };
}
