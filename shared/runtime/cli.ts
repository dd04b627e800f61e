#!/usr/bin/env -S npx tsx
import { pathToFileURL } from 'node:url';
import type { CliIo } from '../cli/io.js';
import { runCli } from '../cli/program.js';

export { runCli };
export type { CliIo };

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const io: CliIo = {
    out: (t) => process.stdout.write(t),
    err: (t) => process.stderr.write(t),
    env: process.env,
    isTTY: process.stdout.isTTY === true,
    columns: process.stdout.columns,
  };
  process.exitCode = await runCli(process.argv.slice(2), io);
}
