import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';

export interface OidcIssuer {
  issuer: string;
  /** A token signed with the issuer's current key; `claims` override the defaults (sub, aud, iss, exp 5 min). */
  token(claims?: JWTPayload, options?: { key?: CryptoKey; kid?: string; alg?: string }): Promise<string>;
  /** Publishes a new key (the old one stays listed unless `retireOld`): key rotation. */
  rotate(retireOld?: boolean): Promise<void>;
  /** How often the JWKS was fetched. */
  jwksFetches(): number;
  stop(): Promise<void>;
}

/**
 * A real OpenID provider as far as a resource server sees one: discovery at
 * /.well-known/openid-configuration, the JWKS at /jwks over HTTP, RS256 keys with a kid.
 */
export async function startOidcIssuer(audience: string): Promise<OidcIssuer> {
  const keys: { kid: string; privateKey: CryptoKey; publicJwk: Record<string, unknown> }[] = [];
  let fetches = 0;
  const addKey = async () => {
    const { privateKey, publicKey } = await generateKeyPair('RS256');
    const kid = `k${keys.length + 1}`;
    keys.push({ kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } });
  };
  await addKey();
  let issuer = '';
  const server: Server = createServer((req, res) => {
    if (req.url === '/.well-known/openid-configuration') {
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ issuer, jwks_uri: `${issuer}/jwks`, id_token_signing_alg_values_supported: ['RS256'] }));
    } else if (req.url === '/jwks') {
      fetches++;
      res.setHeader('content-type', 'application/json');
      res.end(JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
    } else {
      res.statusCode = 404;
      res.end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    issuer,
    async token(claims = {}, options = {}) {
      const current = keys.at(-1)!;
      const now = Math.floor(Date.now() / 1000);
      return new SignJWT({ sub: 'user-1', iss: issuer, aud: audience, iat: now, exp: now + 300, ...claims })
        .setProtectedHeader({ alg: options.alg ?? 'RS256', kid: options.kid ?? current.kid, typ: 'JWT' })
        .sign(options.key ?? current.privateKey);
    },
    async rotate(retireOld = false) {
      await addKey();
      if (retireOld) keys.splice(0, keys.length - 1);
    },
    jwksFetches: () => fetches,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
