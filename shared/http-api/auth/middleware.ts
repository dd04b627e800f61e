import type { NextFunction, Request, RequestHandler, Response } from 'express';
import type { ApiKeyStore } from '../../ports/api-key-store.port.js';
import { localPrincipal, type Principal, type Verdict } from './principal.js';
import { createMemoryRateLimiter } from '../../adapters/memory/rate-limiter.memory.js';
import type { RateLimiter } from '../../ports/rate-limiter.port.js';
import { can, permissionFor } from './roles.js';

/** How the API authenticates: what `createApiApp` is given (absent: `none`, the embedded default). */
export interface ApiAuth {
  mode: 'none' | 'oidc' | 'keys';
  /** The principal a bearer token proves, a refusal with its reason, or null. */
  verify(token: string): Promise<Verdict>;
  /** Where `amas keys` creates and revokes keys (null: no key management on this deployment). */
  keys: ApiKeyStore | null;
  limiter: RateLimiter;
  /** /metrics answers without a credential. */
  metricsPublic: boolean;
}

export const noAuth: ApiAuth = {
  mode: 'none',
  verify: async () => localPrincipal,
  keys: null,
  limiter: createMemoryRateLimiter({ perSecond: 0, burst: 1 }),
  metricsPublic: true,
};

/** Paths anyone may call: probes, the console's static files, and agent messages (their own signed tokens). */
function isOpen(req: Request, auth: ApiAuth): boolean {
  const path = req.path.toLowerCase();
  if (/^\/(health|ready)(\/|$)/.test(path) || path === '/' || path === '/console' || path.startsWith('/console/')) return true;
  if (req.method === 'POST' && /^\/v1\/messages\/?$/.test(path)) return true;
  return auth.metricsPublic && /^\/metrics\/?$/.test(path);
}

/** The event streams, which EventSource opens without headers. */
const streamPath = /^\/v1\/(workflows\/[^/]+\/)?events\/?$/i;

/**
 * `?access_token=` of a GET of an event stream (EventSource cannot send Authorization), taken out of
 * `req.url` so no route, log or error sees it. Nowhere else: elsewhere a token in a URL would end up
 * in proxies' logs and browser history for nothing. Given twice it is no credential ('').
 */
function takeStreamToken(req: Request): string | undefined {
  const mark = req.url.indexOf('?');
  if (req.method !== 'GET' || mark < 0 || !streamPath.test(req.path)) return undefined;
  const given: string[] = [];
  const kept = req.url
    .slice(mark + 1)
    .split('&')
    .filter((part) => {
      const value = new URLSearchParams(part).get('access_token');
      if (value !== null) given.push(value);
      return value === null;
    });
  if (given.length === 0) return undefined;
  req.url = kept.length > 0 ? `${req.url.slice(0, mark)}?${kept.join('&')}` : req.url.slice(0, mark);
  return given.length === 1 ? given[0] : '';
}

export const principalOf = (res: Response): Principal => (res.locals.principal as Principal | undefined) ?? localPrincipal;

const unauthenticated = (res: Response, description: string) => {
  res.setHeader('WWW-Authenticate', `Bearer realm="amas", error="invalid_token", error_description="${description}"`);
  res.status(401).json({ error: 'unauthenticated', message: description });
};

/**
 * Every request but the open ones needs a bearer credential (401), within its rate (429), with a
 * role that allows the route (403, see roles.ts). The principal is left in `res.locals.principal`.
 */
export function authenticate(auth: ApiAuth): RequestHandler {
  return (req: Request, res: Response, next: NextFunction) => {
    const streamToken = takeStreamToken(req);
    if (auth.mode === 'none' || isOpen(req, auth)) return next();
    const [scheme, token, ...rest] = (req.get('Authorization') ?? (streamToken === undefined ? '' : `Bearer ${streamToken}`)).trim().split(/\s+/);
    if (scheme?.toLowerCase() !== 'bearer' || !token || rest.length > 0) {
      res.setHeader('WWW-Authenticate', 'Bearer realm="amas"');
      res.status(401).json({ error: 'unauthenticated', message: 'a credential is required: Authorization: Bearer <token or API key>' });
      return;
    }
    const decide = async (): Promise<void> => {
      const principal = await auth.verify(token);
      if (!principal) return unauthenticated(res, 'the credential is invalid, expired or revoked');
      if ('refused' in principal) return unauthenticated(res, principal.refused);
      const rate = await auth.limiter.take(principal.credential);
      if (!rate.ok) {
        res.setHeader('Retry-After', String(rate.retryAfterSeconds));
        res.status(429).json({ error: 'rate_limited', message: `too many requests for this credential; retry after ${rate.retryAfterSeconds} s` });
        return;
      }
      const permission = permissionFor(req.method, req.path);
      if (!can(principal, permission)) {
        res.status(403).json({ error: 'forbidden', message: `role ${principal.roles.join(', ') || '(none)'} may not ${permission.replace(':', ' ')}` });
        return;
      }
      res.locals.principal = principal;
      next();
    };
    decide().catch(next);
  };
}
