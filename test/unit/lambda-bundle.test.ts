import { execFile } from 'node:child_process';
import { mkdtempSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { build, type BuildOptions } from 'esbuild';
import { parse } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const sls = parse(readFileSync(join(root, 'serverless.yml'), 'utf8')) as { build: { esbuild: Record<string, unknown> }; functions: Record<string, unknown> };
// Inside the repository so that excluded packages (@aws-sdk/*, provided by the Lambda runtime) resolve from node_modules.
const cache = join(root, 'node_modules/.cache');
mkdirSync(cache, { recursive: true });
const out = mkdtempSync(join(cache, 'lambda-bundle-'));
afterAll(() => rmSync(out, { recursive: true, force: true }));

/** serverless.yml's build.esbuild as esbuild JS API options: Serverless-only keys mapped, every other key passed as is. */
function esbuildOptions(declared: Record<string, unknown>): BuildOptions {
  const {
    exclude = [],
    external = [],
    buildConcurrency: _concurrency,
    ...rest
  } = declared as { exclude?: string[]; external?: string[]; buildConcurrency?: number };
  return { ...rest, external: [...external, ...exclude] } as BuildOptions;
}

/** Imports the bundle in a fresh ES module process (no CommonJS `require` global, as on Lambda) and lists its exports. */
async function loadInChild(file: string): Promise<string[]> {
  const script = `const m = await import(${JSON.stringify(pathToFileURL(file).href)}); console.log(JSON.stringify(Object.keys(m)));`;
  const { stdout } = await promisify(execFile)(process.execPath, ['--input-type=module', '-e', script], {
    cwd: out,
    env: { PATH: process.env.PATH ?? '' },
    timeout: 60_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as string[];
}

describe('the Lambda bundle built with the options of serverless.yml', () => {
  it('loads in Node without "Dynamic require ... is not supported" and exports every handler', async () => {
    await build({ ...esbuildOptions(sls.build.esbuild), entryPoints: [join(root, 'shared/runtime/main-lambda.ts')], outdir: out, logLevel: 'silent' });
    // What `package.patterns: [package.json]` ships beside the bundle: "type": "module".
    writeFileSync(join(out, 'package.json'), JSON.stringify({ type: (JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { type: string }).type }));
    const exported = await loadInChild(join(out, 'main-lambda.js'));
    expect(exported).toEqual(expect.arrayContaining(Object.keys(sls.functions)));
  }, 120_000);

  it('the same bundle without the require banner fails to load (the check detects the defect)', async () => {
    const { banner: _banner, ...withoutBanner } = esbuildOptions(sls.build.esbuild);
    const bare = join(out, 'bare');
    await build({ ...withoutBanner, entryPoints: [join(root, 'shared/runtime/main-lambda.ts')], outdir: bare, logLevel: 'silent' });
    writeFileSync(join(bare, 'package.json'), JSON.stringify({ type: 'module' }));
    await expect(loadInChild(join(bare, 'main-lambda.js'))).rejects.toThrow(/Dynamic require of "\w+" is not supported/);
  }, 120_000);
});
