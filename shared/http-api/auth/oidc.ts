import { createRemoteJWKSet, errors, jwtVerify, type JWTPayload } from 'jose';
import { OrchestrationError } from '../../errors.js';
import { roleSchema, tenantSchema, type Role, type Verdict } from './principal.js';

export interface OidcSettings {
  issuerUrl: string;
  audience: string;
  algorithms: readonly string[];
  clockToleranceSeconds: number;
  jwksCooldownMs: number;
  rolesClaim: string;
  tenantClaim: string;
  /** The tenant of a token without the tenant claim; absent, such a token is refused. */
  defaultTenant?: string | undefined;
}

interface Discovered {
  issuer: string;
  jwks: ReturnType<typeof createRemoteJWKSet>;
}

const trimSlash = (url: string) => url.replace(/\/+$/, '');

/** A claim by name, or by a dotted path into nested objects (`realm_access.roles`). */
function claim(payload: JWTPayload, path: string): unknown {
  if (path in payload) return payload[path];
  return path.split('.').reduce<unknown>((value, part) => (value && typeof value === 'object' ? (value as Record<string, unknown>)[part] : undefined), payload);
}

function rolesOf(value: unknown): Role[] {
  const listed = Array.isArray(value) ? value : typeof value === 'string' ? value.split(/[\s,]+/) : [];
  return listed.flatMap((r) => {
    const role = roleSchema.safeParse(r);
    return role.success ? [role.data] : [];
  });
}

/**
 * Bearer JWTs checked against the issuer's published keys: discovery finds `jwks_uri` once (again
 * after a failure); jose's remote key set refetches when a token names a `kid` it does not hold (key
 * rotation), at most once per cooldown, so unknown kids cannot make us hammer the issuer.
 */
export function createOidcVerifier(settings: OidcSettings): (token: string) => Promise<Verdict> {
  let discovery: Promise<Discovered> | undefined;
  const discover = async (): Promise<Discovered> => {
    const url = `${trimSlash(settings.issuerUrl)}/.well-known/openid-configuration`;
    const response = await fetch(url, { signal: AbortSignal.timeout(5_000) });
    if (!response.ok) throw new Error(`OIDC discovery at ${url} answered ${response.status}`);
    const document = (await response.json()) as { issuer?: unknown; jwks_uri?: unknown };
    if (typeof document.issuer !== 'string' || typeof document.jwks_uri !== 'string') throw new Error(`OIDC discovery at ${url} names no issuer or jwks_uri`);
    // The issuer must be the one configured (OpenID Connect Discovery 1.0, section 4.3).
    if (trimSlash(document.issuer) !== trimSlash(settings.issuerUrl))
      throw new Error(`OIDC discovery at ${url} names issuer ${document.issuer}, not OIDC_ISSUER_URL`);
    return {
      issuer: document.issuer,
      jwks: createRemoteJWKSet(new URL(document.jwks_uri), { cooldownDuration: settings.jwksCooldownMs, cacheMaxAge: 10 * 60_000 }),
    };
  };

  return async (token) => {
    discovery ??= discover().catch((error: unknown) => {
      discovery = undefined;
      throw new OrchestrationError('DEPENDENCY_UNAVAILABLE', `the OIDC issuer cannot be reached: ${error instanceof Error ? error.message : String(error)}`, {
        retriable: true,
        cause: error,
      });
    });
    const { issuer, jwks } = await discovery;
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, jwks, {
        issuer,
        audience: settings.audience,
        algorithms: [...settings.algorithms],
        clockTolerance: settings.clockToleranceSeconds,
        requiredClaims: ['exp', 'sub'],
      }));
    } catch (error) {
      // The issuer's key endpoint failing is not the caller's fault.
      if (error instanceof errors.JWKSTimeout || (error instanceof Error && !(error instanceof errors.JOSEError))) {
        throw new OrchestrationError('DEPENDENCY_UNAVAILABLE', `the OIDC issuer's keys cannot be read: ${error.message}`, { retriable: true, cause: error });
      }
      return null;
    }
    // A missing claim is not guessed: in one shared default tenant, users of different tenants would see each other's work.
    const named = claim(payload, settings.tenantClaim) ?? settings.defaultTenant;
    if (named === undefined) return { refused: `the token has no ${settings.tenantClaim} claim naming its tenant` };
    const tenant = tenantSchema.safeParse(named);
    if (!tenant.success) return { refused: `the token's ${settings.tenantClaim} claim is not a tenant name` };
    return {
      subject: payload.sub!,
      roles: rolesOf(claim(payload, settings.rolesClaim)),
      tenant: tenant.data,
      credential: `oidc:${payload.sub}`,
      via: 'oidc',
    };
  };
}
