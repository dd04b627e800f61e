import type { Command } from 'commander';
import { createApiClient, defaultUrl, type ApiClient } from './http-client.js';
import { UsageError, type CliIo } from './io.js';

export interface ActionContext<O> {
  io: CliIo;
  /** The positional arguments, in order. */
  args: string[];
  options: O;
  /** The API at --url / AMAS_URL, with --token / AMAS_TOKEN as the bearer token. */
  client(): ApiClient;
}

/** The exit code the last action chose (commander's actions return nothing). */
export interface ExitCode {
  code: number;
}

/**
 * Adapts `run` to a commander action: it gets the arguments, options and an API client, and its
 * result becomes the exit code. A UsageError is reported like commander's own (message, usage, exit 2).
 */
export function action<O>(io: CliIo, exit: ExitCode, run: (context: ActionContext<O>) => Promise<number>) {
  return async (...params: unknown[]): Promise<void> => {
    const command = params.at(-1) as Command;
    const options = params.at(-2) as O;
    const args = params.slice(0, -2).filter((a): a is string => typeof a === 'string');
    try {
      exit.code = await run({ io, args, options, client: () => clientFor(command, io) });
    } catch (error) {
      if (error instanceof UsageError) command.error(`error: ${error.message}`, { exitCode: 2, code: 'amas.usage' });
      throw error;
    }
  };
}

function clientFor(command: Command, io: CliIo): ApiClient {
  const globals = command.optsWithGlobals<{ url?: string; token?: string }>();
  const url = globals.url ?? io.env.AMAS_URL ?? defaultUrl;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new UsageError(`AMAS_URL / --url "${url}" is not a URL (e.g. ${defaultUrl})`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') throw new UsageError(`AMAS_URL / --url "${url}" is not an http(s) URL`);
  return createApiClient({ url, token: globals.token ?? io.env.AMAS_TOKEN });
}

export const printJson = (io: CliIo, value: unknown) => io.out(`${JSON.stringify(value, null, 2)}\n`);
export const pathId = (id: string) => encodeURIComponent(id);
