import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express, { Router } from 'express';

/** Where scripts/build-console.ts writes the bundle (shipped in the repository). */
export const consoleDistDir = fileURLToPath(new URL('../../console/dist/', import.meta.url));

/**
 * The web console at /console/ (static files, hash-routed, same origin as the API it calls) and `/`
 * sending there. Without a built bundle it answers 503 saying how to build one.
 */
export function createConsoleRoutes(dir: string = consoleDistDir): Router {
  const router = Router();
  router.get('/', (_req, res) => res.redirect(302, '/console/'));
  router.use(
    '/console',
    (_req, res, next) => {
      if (existsSync(join(dir, 'index.html'))) return next();
      res.status(503).type('text/plain').send('The web console is not built: run `npm run build:console` (it writes console/dist/).\n');
    },
    (_req, res, next) => {
      // Only this origin's scripts, styles and API: the console needs nothing else.
      res.setHeader('Content-Security-Policy', "default-src 'self'; img-src 'self' data:; style-src 'self'; frame-ancestors 'none'");
      res.setHeader('X-Content-Type-Options', 'nosniff');
      next();
    },
    // File names carry no hash, so browsers revalidate (ETag) on every load.
    express.static(dir, { index: 'index.html', redirect: true, setHeaders: (res) => res.setHeader('Cache-Control', 'no-cache') }),
  );
  return router;
}
