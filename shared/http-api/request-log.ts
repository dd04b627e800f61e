import type { RequestHandler } from 'express';
import type { Logger } from '../observability/logger.js';

/** Probes and scrapes arrive every few seconds: at INFO they would drown the lines that matter. */
const probe = /^\/(health|ready|metrics)(\/|$)/;

/**
 * One line per HTTP request when its answer ends (or its client goes away, as an event stream's
 * does): method, path (without the query), status and ms. INFO, except probes and scrapes (DEBUG).
 */
export function requestLog(logger: Logger): RequestHandler {
  return (req, res, next) => {
    const started = performance.now();
    const path = req.path;
    res.once('close', () => {
      const fields = {
        method: req.method,
        path,
        status: res.statusCode,
        ms: Math.round((performance.now() - started) * 10) / 10,
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (probe.test(path)) logger.debug('request', fields);
      else logger.info('request', fields);
    });
    next();
  };
}
