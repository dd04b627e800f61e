#!/usr/bin/env -S npx tsx
import { readFile } from 'node:fs/promises';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { configKeys, loadConfig, loadInfra, type Config } from '../config.js';
import { OrchestrationError } from '../errors.js';
import { createPgClient } from '../adapters/sql/sql-client.pg.js';
import { runMigrations } from '../adapters/sql/migrations.js';
import type { ReadRange, WorkflowStore } from '../ports/index.js';
import { allTopics } from '../events/index.js';
import { createKafkaEventBus } from '../adapters/kafka/event-bus.kafka.js';
import { busSource, createReplayPorts, parseLog, recordsSource, replayLog, type ReplaySource } from './replay.js';

export const usage = `usage: amas <command> [options]

commands:
  migrate                              apply the SQL migrations to DATABASE_URL
  replay --file <log.jsonl> [--workflow <id>]
                                       replay an exported event log into a fresh embedded state
  replay --kafka [--topic <t> ...] [--from-offset <n> | --from-time <iso>] [--workflow <id>]
                                       replay records retained on Kafka (KAFKA_BROKERS; default: every
                                       orchestration topic) into a fresh embedded state
  config                               print the effective configuration`;

export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

/** A mistake in how the CLI was called: message and usage, exit 2, no stack. */
class UsageError extends OrchestrationError {
  constructor(message: string) {
    super('USAGE', message);
  }
}

const commands: Record<string, (args: string[], io: CliIo) => Promise<number>> = { migrate, replay, config };

/** Runs one command; returns the exit code (0 ok, 1 failed or diverged, 2 bad arguments or configuration). */
export async function runCli(argv: string[], io: CliIo): Promise<number> {
  const [name, ...args] = argv;
  try {
    const command = name === undefined ? undefined : commands[name];
    if (!command) throw new UsageError(name === undefined ? 'no command given' : `unknown command "${name}"`);
    return await command(args, io);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`amas: ${error.message}\n\n${usage}\n`);
      return 2;
    }
    if (error instanceof OrchestrationError) {
      io.err(`amas: ${error.message}\n`);
      return error.code === 'CONFIG_INVALID' ? 2 : 1;
    }
    io.err(`amas: ${error instanceof Error ? error.message : String(error)}\n`);
    return 1;
  }
}

function parse<O extends Record<string, { type: 'string' | 'boolean' }>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    // node:util reports unknown options and missing values with a message naming them.
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
}

async function migrate(args: string[], io: CliIo): Promise<number> {
  parse(args, {});
  const { DATABASE_URL } = loadInfra(io.env);
  if (!DATABASE_URL) throw new UsageError('migrate needs DATABASE_URL (e.g. DATABASE_URL=postgres://user@host:5432/db amas migrate)');
  const client = createPgClient(DATABASE_URL);
  try {
    const applied = await runMigrations(client);
    io.out(applied.length > 0 ? `applied migrations ${applied.join(', ')}\n` : 'schema is up to date\n');
    return 0;
  } finally {
    await client.close();
  }
}

/** Where the records come from: an exported file, or the topics retained on the Kafka broker. */
async function replaySourceFrom(values: ReplayArgs, io: CliIo): Promise<{ source: ReplaySource; close(): Promise<void> }> {
  if (values.kafka) {
    if (values.file) throw new UsageError('give either --file or --kafka, not both');
    const infra = loadInfra(io.env);
    if (!infra.KAFKA_BROKERS) throw new UsageError('replay --kafka needs KAFKA_BROKERS (e.g. KAFKA_BROKERS=127.0.0.1:9092 amas replay --kafka)');
    if (values['from-offset'] !== undefined && values['from-time'] !== undefined) throw new UsageError('give --from-offset or --from-time, not both');
    const range: ReadRange = {};
    if (values['from-offset'] !== undefined) {
      const offset = Number(values['from-offset']);
      if (!Number.isInteger(offset) || offset < 0) throw new UsageError(`--from-offset "${values['from-offset']}" is not a non-negative integer`);
      range.fromOffset = offset;
    }
    if (values['from-time'] !== undefined) {
      const time = Date.parse(values['from-time']);
      if (!Number.isFinite(time)) throw new UsageError(`--from-time "${values['from-time']}" is not a date (e.g. 2026-11-25T10:00:00Z)`);
      range.fromTime = time;
    }
    const known = new Set<string>(allTopics);
    for (const topic of values.topic ?? []) if (!known.has(topic)) throw new UsageError(`--topic "${topic}" is not an orchestration topic (${allTopics.join(', ')})`);
    const bus = createKafkaEventBus({ brokers: infra.KAFKA_BROKERS.split(','), clientId: 'amas-replay', topicPrefix: infra.KAFKA_TOPIC_PREFIX });
    return { source: busSource(bus, values.topic?.length ? values.topic : allTopics, range), close: () => bus.close() };
  }
  if (!values.file) throw new UsageError('replay needs --file <log.jsonl> or --kafka');
  let text: string;
  try {
    text = await readFile(values.file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read --file "${values.file}": ${(error as NodeJS.ErrnoException).code ?? String(error)}`);
  }
  return { source: recordsSource(parseLog(text)), close: async () => undefined };
}

type ReplayArgs = { file?: string; kafka?: boolean; topic?: string[]; 'from-offset'?: string; 'from-time'?: string; workflow?: string };

async function replay(args: string[], io: CliIo): Promise<number> {
  let values: ReplayArgs;
  try {
    values = parseArgs({
      args,
      options: { file: { type: 'string' }, kafka: { type: 'boolean' }, topic: { type: 'string', multiple: true }, 'from-offset': { type: 'string' }, 'from-time': { type: 'string' }, workflow: { type: 'string' } },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { source, close } = await replaySourceFrom(values, io);
  const records = await source.records().finally(close);
  const submitted = records.filter((r) => (r.value as { type?: unknown }).type === 'task.submitted');
  if (values.workflow !== undefined && !submitted.some((r) => (r.value as { data?: { workflowId?: unknown } }).data?.workflowId === values.workflow)) {
    throw new UsageError(`--workflow "${values.workflow}" is not in the log (it holds ${submitted.length} submitted tasks)`);
  }
  const ports = await createReplayPorts(loadConfig(io.env));
  try {
    const summary = await replayLog(records, ports);
    const { decompose, assign, dispatch, complete } = summary.processed;
    io.out(`replayed ${summary.records} records: decompose ${decompose}, assign ${assign}, dispatch ${dispatch}, complete ${complete}\n`);
    for (const id of values.workflow !== undefined ? [values.workflow] : summary.workflowIds) io.out(`${await describeWorkflow(ports.store, id)}\n`);
    if (summary.divergences.length === 0) {
      io.out('no divergence: the handlers emitted exactly the logged events\n');
      return 0;
    }
    io.err(`${summary.divergences.length} divergences:\n`);
    for (const d of summary.divergences) io.err(`  ${JSON.stringify(d)}\n`);
    return 1;
  } finally {
    await ports.close();
  }
}

async function describeWorkflow(store: WorkflowStore, id: string): Promise<string> {
  const workflow = await store.getWorkflow(id);
  const subtasks = await store.getSubtasks(id);
  const byStatus = new Map<string, number>();
  for (const s of subtasks) byStatus.set(s.status, (byStatus.get(s.status) ?? 0) + 1);
  const counts = [...byStatus].map(([status, n]) => `${n} ${status}`).join(', ') || 'none';
  const attempts = subtasks.reduce((sum, s) => sum + s.attempts, 0);
  return `${id}  ${workflow?.status ?? 'missing'}  subtasks: ${subtasks.length} (${counts})  attempts: ${attempts}`;
}

async function config(args: string[], io: CliIo): Promise<number> {
  parse(args, {});
  const effective: Config = loadConfig(io.env);
  const infra = loadInfra(io.env);
  for (const key of configKeys) io.out(`${key}=${String(effective[key])}\n`);
  for (const [key, value] of Object.entries(infra)) io.out(`${key}=${key === 'DATABASE_URL' ? String(value).replace(/\/\/([^:@/]+):[^@/]+@/, '//$1:***@') : String(value)}\n`);
  return 0;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const io: CliIo = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env };
  process.exitCode = await runCli(process.argv.slice(2), io);
}
