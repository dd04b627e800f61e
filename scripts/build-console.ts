import { mkdir, readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The web console: console/src bundled by esbuild into console/dist (index.html, app.js, app.css), served at /console/. */
export const consoleSrc = fileURLToPath(new URL('../console/src/', import.meta.url));
export const consoleDist = fileURLToPath(new URL('../console/dist/', import.meta.url));
const root = fileURLToPath(new URL('../', import.meta.url));

/** Builds the bundle in memory: file name in console/dist → content. The same sources always give the same bytes. */
export async function bundleConsole(): Promise<Map<string, Uint8Array>> {
  // Loaded here: esbuild is a devDependency, and a production install serves the shipped bundle without it.
  const { build } = await import('esbuild');
  const result = await build({
    absWorkingDir: root,
    entryPoints: { app: join(consoleSrc, 'main.tsx') },
    outdir: consoleDist,
    bundle: true,
    minify: true,
    format: 'esm',
    target: ['chrome109', 'firefox115', 'safari16'],
    jsx: 'automatic',
    jsxImportSource: 'preact',
    legalComments: 'eof',
    // The repository's lint runs over every .js file; a minified bundle is not source.
    banner: { js: '/* eslint-disable */', css: '/* built by scripts/build-console.ts from console/src */' },
    write: false,
    logLevel: 'silent',
  });
  const files = new Map<string, Uint8Array>();
  for (const file of result.outputFiles) files.set(file.path.slice(consoleDist.length), file.contents);
  files.set('index.html', await readFile(join(consoleSrc, 'index.html')));
  return files;
}

/** Writes console/dist; returns the size of each file. */
export async function buildConsole(): Promise<Record<string, number>> {
  const files = await bundleConsole();
  await mkdir(consoleDist, { recursive: true });
  const sizes: Record<string, number> = {};
  for (const [name, content] of files) {
    await writeFile(join(consoleDist, name), content);
    sizes[name] = content.byteLength;
  }
  return sizes;
}

/** Why console/dist needs building: `missing`, `stale` (older than a file of console/src), or null. */
export async function consoleNeedsBuild(): Promise<'missing' | 'stale' | null> {
  const built = await stat(join(consoleDist, 'app.js')).catch(() => null);
  if (!built || !(await stat(join(consoleDist, 'index.html')).catch(() => null))) return 'missing';
  for (const entry of await readdir(consoleSrc, { recursive: true, withFileTypes: true })) {
    if (entry.isFile() && (await stat(join(entry.parentPath, entry.name))).mtimeMs > built.mtimeMs) return 'stale';
  }
  return null;
}

// tsx scripts/build-console.ts [--if-missing | --if-stale]: `npm test` builds a missing bundle, `npm start` a stale one too.
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const need = await consoleNeedsBuild();
  const wanted = process.argv.includes('--if-missing') ? need === 'missing' : process.argv.includes('--if-stale') ? need !== null : true;
  if (wanted) {
    try {
      const sizes = await buildConsole();
      console.log(
        `console/dist: ${Object.entries(sizes)
          .map(([name, bytes]) => `${name} ${(bytes / 1024).toFixed(1)} KiB`)
          .join(', ')}`,
      );
    } catch (error) {
      // Without the devDependencies (a production install) the shipped bundle is served as it is.
      if (need === 'missing' || !process.argv.includes('--if-stale')) throw error;
      console.warn(
        `console/dist is older than console/src and cannot be rebuilt here (${error instanceof Error ? error.message : String(error)}); serving it as it is`,
      );
    }
  }
}
