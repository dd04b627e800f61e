/** An API key as listed: never its secret, which is shown once at creation and stored only hashed. */
export interface ApiKeyRecord {
  id: string;
  name: string | null;
  role: string;
  tenant: string;
  /** The agent an `agent` key speaks for. */
  agentId: string | null;
  createdBy: string;
  createdAt: string;
  revokedAt: string | null;
}

export interface StoredApiKey extends ApiKeyRecord {
  /** sha256 of the secret, hex. */
  secretHash: string;
}

export interface ApiKeyStore {
  create(key: Omit<StoredApiKey, 'revokedAt'>): Promise<ApiKeyRecord>;
  find(id: string): Promise<StoredApiKey | null>;
  /** Newest first; only the tenant's when given. */
  list(tenant?: string): Promise<ApiKeyRecord[]>;
  /** Marks the key revoked (the first time only); null when there is no such key. */
  revoke(id: string, at: string): Promise<ApiKeyRecord | null>;
}
