import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writePgliteTemplate } from '../shared/adapters/sql/sql-client.pglite.js';

/**
 * vitest globalSetup: one initialised empty PGlite cluster for the whole run, which every new PGlite
 * cluster (in memory or in a new data directory) of the run's workers and of the processes they
 * spawn starts from (AMAS_PGLITE_TEMPLATE). The unit run makes about 80 of them; their initdb took
 * 299 s of worker time in a 496 s run on two workers.
 */
export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env.AMAS_PGLITE_TEMPLATE) return undefined;
  const dir = await mkdtemp(join(tmpdir(), 'amas-pglite-template-'));
  const file = join(dir, 'cluster.tar.gz');
  await writePgliteTemplate(file);
  process.env.AMAS_PGLITE_TEMPLATE = file;
  return async () => {
    delete process.env.AMAS_PGLITE_TEMPLATE;
    await rm(dir, { recursive: true, force: true });
  };
}
