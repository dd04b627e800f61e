import { Router } from 'express';
import { z } from 'zod';
import { NotFoundError, OrchestrationError } from '../../errors.js';
import type { ApiKeyStore } from '../../ports/api-key-store.port.js';
import type { Logger } from '../../observability/logger.js';
import { issueApiKey } from './keys.js';
import { principalOf } from './middleware.js';
import { allTenants, roleSchema, tenantSchema } from './principal.js';

const createKeySchema = z.strictObject({
  role: roleSchema,
  tenant: tenantSchema,
  name: z.string().trim().min(1).max(200).optional(),
  agentId: z.string().min(1).max(200).optional(),
});
const keyIdSchema = z.object({ id: z.string().regex(/^[0-9a-f]{16}$/, 'a key id (16 hex digits)') });

/**
 * POST /v1/keys, GET /v1/keys, POST /v1/keys/:id/revoke (admin only, see roles.ts). An admin of one
 * tenant manages that tenant's keys; only an every-tenant admin (`*`) makes keys for others or `*`.
 */
export function createKeysRoutes(keys: ApiKeyStore | null, logger: Logger): Router {
  const router = Router();
  const store = () => {
    if (!keys) throw new OrchestrationError('NOT_FOUND', 'API keys are not kept on this deployment');
    return keys;
  };

  router.post('/v1/keys', async (req, res) => {
    const body = createKeySchema.parse(req.body ?? {});
    const principal = principalOf(res);
    if (principal.tenant !== allTenants && body.tenant !== principal.tenant) {
      res.status(403).json({ error: 'forbidden', message: `an admin of tenant ${principal.tenant} makes keys for that tenant only` });
      return;
    }
    const { key, record } = await issueApiKey(store(), { ...body, createdBy: principal.subject, now: new Date() });
    logger.info('api key created', { keyId: record.id, role: record.role, tenant: record.tenant, by: principal.subject });
    res.status(201).json({ ...record, key });
  });

  router.get('/v1/keys', async (_req, res) => {
    const principal = principalOf(res);
    res.json({ keys: await store().list(principal.tenant === allTenants ? undefined : principal.tenant) });
  });

  router.post('/v1/keys/:id/revoke', async (req, res) => {
    const { id } = keyIdSchema.parse(req.params);
    const principal = principalOf(res);
    const existing = await store().find(id);
    // Another tenant's key is as unknown as a missing one.
    if (!existing || (principal.tenant !== allTenants && existing.tenant !== principal.tenant)) throw new NotFoundError(`api key ${id}`);
    const revoked = await store().revoke(id, new Date().toISOString());
    logger.info('api key revoked', { keyId: id, by: principal.subject });
    res.json(revoked);
  });
  return router;
}
