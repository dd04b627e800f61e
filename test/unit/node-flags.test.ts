import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { missingV8Flags, unsetV8Flags, V8_FLAGS, v8FlagsInEffect } from '../../shared/runtime/node-flags.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '../..');
const read = (file: string): string => readFileSync(join(root, file), 'utf8');

/** NODE_OPTIONS as the image's runtime stage sets it (its ENV block, quotes removed). */
function imageNodeOptions(): string {
  const runtime =
    read('Dockerfile')
      .split(/^FROM /m)
      .find((stage) => stage.startsWith('node:20-slim AS runtime')) ?? '';
  const match = /NODE_OPTIONS=("[^"]*"|\S+)/.exec(runtime);
  return (match?.[1] ?? '').replaceAll('"', '');
}

describe('the V8 flags every process runs with', () => {
  it('are in the image, on Lambda and in the npm scripts that start a process or a benchmark', () => {
    const sls = parse(read('serverless.yml')) as { provider: { environment: Record<string, string> } };
    const scripts = (JSON.parse(read('package.json')) as { scripts: Record<string, string> }).scripts;
    const starting = Object.entries(scripts).filter(([name]) => ['start', 'fn', 'agent:llm'].includes(name) || name.startsWith('bench:'));
    expect(starting.length).toBeGreaterThan(3);
    expect(missingV8Flags([], imageNodeOptions())).toEqual([]);
    expect(missingV8Flags([], sls.provider.environment.NODE_OPTIONS)).toEqual([]);
    for (const [name, command] of starting) expect({ name, missing: missingV8Flags(command.split(/\s+/), '') }).toEqual({ name, missing: [] });
  });

  it('count as given on the command line or in NODE_OPTIONS; a benchmark keeps another value given on purpose and names it', () => {
    const [flag] = V8_FLAGS;
    const name = flag!.split('=')[0]!;
    expect(missingV8Flags([flag!], '')).toEqual([]);
    expect(missingV8Flags([], `--enable-source-maps ${flag}`)).toEqual([]);
    expect(missingV8Flags([`${name}=16`], '')).toEqual([...V8_FLAGS]);
    expect(unsetV8Flags([], '--enable-source-maps')).toEqual([...V8_FLAGS]);
    expect(unsetV8Flags([`${name}=128`], '')).toEqual([]);
    expect(v8FlagsInEffect([`${name}=128`], `${name}=32`)).toBe(`${name}=128`);
    expect(v8FlagsInEffect([], '')).toBe('V8 defaults');
  });
});
