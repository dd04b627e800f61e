import type { InfraConfig } from '../../env.js';
import { ConfigError } from '../../errors.js';
import type { ApiKeyStore } from '../../ports/api-key-store.port.js';
import { adminKeyVerifier, looksLikeApiKey, verifyApiKey } from './keys.js';
import { noAuth, type ApiAuth } from './middleware.js';
import { createOidcVerifier } from './oidc.js';
import type { Verdict } from './principal.js';
import { createMemoryRateLimiter } from '../../adapters/memory/rate-limiter.memory.js';
import { createRedisClient } from '../../adapters/redis/lease-store.redis.js';
import { createRedisRateLimiter } from '../../adapters/redis/rate-limiter.redis.js';
import type { RateLimiter } from '../../ports/rate-limiter.port.js';

export type AuthInfra = Pick<
  InfraConfig,
  | 'AMAS_AUTH'
  | 'AMAS_ADMIN_KEY'
  | 'HOST'
  | 'OIDC_ISSUER_URL'
  | 'OIDC_AUDIENCE'
  | 'OIDC_ALGORITHMS'
  | 'OIDC_CLOCK_TOLERANCE_SECONDS'
  | 'OIDC_JWKS_COOLDOWN_SECONDS'
  | 'OIDC_ROLES_CLAIM'
  | 'OIDC_TENANT_CLAIM'
  | 'OIDC_DEFAULT_TENANT'
  | 'AMAS_RATE_LIMIT_PER_SECOND'
  | 'AMAS_RATE_LIMIT_BURST'
  | 'AMAS_METRICS_PUBLIC'
  | 'REDIS_URL'
>;

export function isLoopback(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(\.\d{1,3}){3}$/.test(h) || /^::ffff:127(\.\d{1,3}){3}$/.test(h);
}

/**
 * Refuses (ConfigError: exit 2 at start-up) `none` anywhere but loopback, `oidc` without its issuer
 * and audience, `keys` without the admin key that creates the first keys. `loopback: false` is for
 * hosts that are public whatever HOST says (Lambda behind API Gateway).
 */
export function checkAuthSettings(infra: AuthInfra, loopback: boolean = isLoopback(infra.HOST)): void {
  if (infra.AMAS_AUTH === 'none' && !loopback) {
    throw new ConfigError(
      `Refusing to start: HOST=${infra.HOST} accepts connections from other machines, and AMAS_AUTH=none would let any of them submit, read and cancel workflows.\n` +
        '  Set AMAS_AUTH=keys (with AMAS_ADMIN_KEY to create the first keys) or AMAS_AUTH=oidc (with OIDC_ISSUER_URL and OIDC_AUDIENCE), or listen on HOST=127.0.0.1.',
    );
  }
  if (infra.AMAS_AUTH === 'oidc' && (!infra.OIDC_ISSUER_URL || !infra.OIDC_AUDIENCE)) {
    throw new ConfigError('Invalid configuration:\n  AMAS_AUTH=oidc needs OIDC_ISSUER_URL and OIDC_AUDIENCE');
  }
  if (infra.AMAS_AUTH === 'keys' && !infra.AMAS_ADMIN_KEY) {
    throw new ConfigError(
      'Invalid configuration:\n  AMAS_AUTH=keys needs AMAS_ADMIN_KEY (the admin credential that creates the first keys with `amas keys create`)',
    );
  }
}

/** The API's authentication from the environment (after checkAuthSettings). */
export function apiAuthFromInfra(infra: AuthInfra, options: { keys: ApiKeyStore | null; loopback?: boolean; limiter?: RateLimiter }): ApiAuth {
  const loopback = options.loopback ?? isLoopback(infra.HOST);
  checkAuthSettings(infra, loopback);
  // Keys may be made before switching to AMAS_AUTH=keys (same database).
  if (infra.AMAS_AUTH === 'none') return { ...noAuth, keys: options.keys };
  const admin = adminKeyVerifier(infra.AMAS_ADMIN_KEY);
  const viaKey = async (token: string) => (options.keys ? verifyApiKey(options.keys, token) : null);
  const viaJwt: (token: string) => Promise<Verdict> =
    infra.AMAS_AUTH === 'oidc'
      ? createOidcVerifier({
          issuerUrl: infra.OIDC_ISSUER_URL!,
          audience: infra.OIDC_AUDIENCE!,
          algorithms: infra.OIDC_ALGORITHMS,
          clockToleranceSeconds: infra.OIDC_CLOCK_TOLERANCE_SECONDS,
          jwksCooldownMs: infra.OIDC_JWKS_COOLDOWN_SECONDS * 1000,
          rolesClaim: infra.OIDC_ROLES_CLAIM,
          tenantClaim: infra.OIDC_TENANT_CLAIM,
          defaultTenant: infra.OIDC_DEFAULT_TENANT,
        })
      : async () => null;
  return {
    mode: infra.AMAS_AUTH,
    // API keys work in oidc mode too: machine clients need no account at the identity provider.
    verify: async (token) => admin(token) ?? (looksLikeApiKey(token) ? viaKey(token) : viaJwt(token)),
    keys: options.keys,
    limiter: options.limiter ?? createMemoryRateLimiter(rateSettings(infra)),
    metricsPublic: loopback || infra.AMAS_METRICS_PUBLIC,
  };
}

const rateSettings = (infra: AuthInfra) => ({ perSecond: infra.AMAS_RATE_LIMIT_PER_SECOND, burst: infra.AMAS_RATE_LIMIT_BURST });

/**
 * The per-credential limit: shared by every API replica through Redis when REDIS_URL is set (and
 * a credential is asked for at all), else this process's own. While Redis fails, each replica falls
 * back to its own limit: an outage of the limiter must not lock every caller out.
 */
export function rateLimiterFromInfra(infra: AuthInfra): RateLimiter & { close(): Promise<void> } {
  const memory = createMemoryRateLimiter(rateSettings(infra));
  if (!infra.REDIS_URL || infra.AMAS_AUTH === 'none' || infra.AMAS_RATE_LIMIT_PER_SECOND <= 0) return { ...memory, close: async () => undefined };
  const shared = createRedisRateLimiter(createRedisClient(infra.REDIS_URL), rateSettings(infra), { quitOnClose: true });
  return {
    take: (credential) => shared.take(credential).catch(() => memory.take(credential)),
    close: () => shared.close(),
  };
}
