import type { NextFunction, Request, RequestHandler, Response } from 'express';

/** A NUL (PostgreSQL text cannot hold it) or a UTF-16 surrogate without its pair (not Unicode). */
// eslint-disable-next-line no-control-regex -- finding NUL is the point
const badText = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

const why = (text: string) => (text.includes('\u0000') ? 'contains a NUL character (\\u0000)' : 'contains a lone UTF-16 surrogate (not Unicode text)');

const invalid = (res: Response, path: string, message: string) =>
  res.status(400).json({ error: 'invalid_request', issues: [{ path, message, code: 'invalid_string' }] });

interface Visit {
  value: unknown;
  key: string | null;
  parent: Visit | null;
}
const pathOf = (visit: Visit | null, last?: string): string => {
  const parts = last === undefined ? [] : [last];
  for (let at = visit; at && at.key !== null; at = at.parent) parts.push(at.key);
  return parts.reverse().join('.');
};

/** The first string (value or key) that is not storable text, with its path; walked without recursion or path copies, so depth costs neither stack nor time. */
export function findBadText(value: unknown, root?: string): { path: string; message: string } | null {
  const stack: Visit[] = [{ value, key: root ?? null, parent: null }];
  while (stack.length > 0) {
    const visit = stack.pop()!;
    const current = visit.value;
    if (typeof current === 'string') {
      if (badText.test(current)) return { path: pathOf(visit), message: why(current) };
    } else if (current && typeof current === 'object') {
      for (const [key, child] of Object.entries(current)) {
        if (badText.test(key)) return { path: pathOf(visit, key), message: `key ${why(key)}` };
        stack.push({ value: child, key, parent: visit });
      }
    }
  }
  return null;
}

/**
 * Malformed percent-encoding, NUL or a lone surrogate in the path answer 400 before routing (express
 * would throw on decoding and answer 500; PostgreSQL would refuse the text).
 */
export const rejectBadPaths: RequestHandler = (req, res, next) => {
  let decoded: string;
  try {
    decoded = decodeURIComponent(req.path);
  } catch {
    return invalid(res, '(path)', 'malformed percent-encoding in the path');
  }
  if (badText.test(decoded)) return invalid(res, '(path)', `the path ${why(decoded)}`);
  next();
};

/** After the JSON parser: any text field of the body, or of the query, that cannot be stored answers 400 naming its path. */
export const rejectBadText: RequestHandler = (req, res, next) => {
  const found = findBadText(req.body) ?? findBadText(req.query, 'query');
  if (found) return invalid(res, found.path, found.message);
  next();
};

const hasBody = (req: Request) => Number(req.get('content-length') ?? 0) > 0 || req.get('transfer-encoding') !== undefined;

/**
 * Commands take JSON only (415 otherwise): a cross-site HTML form can post urlencoded, multipart or
 * text/plain bodies without a CORS preflight, never application/json. A bodyless command is still
 * accepted from non-browsers, but not from another site's page (Sec-Fetch-Site, sent by browsers).
 */
export function requireJson(req: Request, res: Response, next: NextFunction): void {
  if (req.method === 'GET' || req.method === 'HEAD' || req.method === 'OPTIONS') return next();
  const type = req.get('content-type');
  if (type !== undefined || hasBody(req)) {
    const media = (type ?? '').split(';')[0]!.trim().toLowerCase();
    if (media !== 'application/json') {
      res.status(415).json({ error: 'unsupported_media_type', message: 'commands take a JSON body: Content-Type: application/json' });
      return;
    }
  } else if (req.get('sec-fetch-site') === 'cross-site') {
    res.status(403).json({ error: 'forbidden', message: 'commands are not accepted from another site' });
    return;
  }
  next();
}
