import type { ErrorRequestHandler } from 'express';
import { ZodError } from 'zod';
import { OrchestrationError, type ErrorCode } from '../errors.js';
import type { Logger } from '../observability/logger.js';
import { isUnavailable } from './last-known-reads.js';

const statusByCode: Partial<Record<ErrorCode, number>> = {
  NOT_FOUND: 404,
  INVALID_TRANSITION: 409,
  BACKPRESSURE: 429,
  INVALID_EVENT: 400,
  CONCURRENCY_CONFLICT: 409,
  DEPENDENCY_UNAVAILABLE: 503,
};

/** Zod issues become a 400 naming each path; classified errors map to their status; the rest is a 500. */
export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, _req, res, _next) => {
    if (error instanceof ZodError) {
      res.status(400).json({
        error: 'invalid_request',
        issues: error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message, code: issue.code })),
      });
      return;
    }
    const parseFailure = error as { type?: string; status?: number; message?: string };
    if (parseFailure.type === 'entity.parse.failed' || parseFailure.type === 'entity.too.large') {
      res.status(parseFailure.status ?? 400).json({ error: 'invalid_request', issues: [{ path: '', message: parseFailure.message ?? 'malformed body' }] });
      return;
    }
    if (error instanceof OrchestrationError && statusByCode[error.code]) {
      if (error.code === 'DEPENDENCY_UNAVAILABLE') res.setHeader('Retry-After', '5');
      res.status(statusByCode[error.code] ?? 500).json({ error: error.code.toLowerCase(), message: error.message });
      return;
    }
    if (isUnavailable(error)) {
      // A dependency is down: the client may retry, unlike a 500.
      res.setHeader('Retry-After', '5');
      res.status(503).json({ error: 'dependency_unavailable', message: error instanceof Error ? error.message : 'a dependency is unavailable' });
      return;
    }
    logger.error('request failed', { error: error instanceof Error ? error.stack : String(error) });
    res.status(500).json({ error: 'internal_error', message: 'the request could not be completed' });
  };
}
