import { readFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { loadConfig } from '../../config.js';
import { loadInfra } from '../../env.js';
import { createKafkaEventBus } from '../../adapters/kafka/event-bus.kafka.js';
import { allTopics } from '../../events/index.js';
import type { ReadRange, WorkflowStore } from '../../ports/index.js';
import { busSource, createReplayPorts, parseLog, recordsSource, replayLog, type ReplaySource } from '../../engine/replay.js';
import { action, type ExitCode } from '../context.js';
import { UsageError, type CliIo } from '../io.js';
import { collect } from '../parsers.js';

type ReplayArgs = { file?: string; kafka?: boolean; topic?: string[]; fromOffset?: string; fromTime?: string; workflow?: string };

export function registerReplayCommand(program: Command, io: CliIo, exit: ExitCode): void {
  program
    .command('replay')
    .description('replay an event log (--file) or the records Kafka retains (--kafka) into a fresh embedded state; exit 1 on a divergence')
    .option('--file <log.jsonl>', 'an exported event log')
    .option('--kafka', 'read the records retained on KAFKA_BROKERS')
    .option('--topic <topic>', 'with --kafka: only this topic (repeatable; default every orchestration topic)', collect)
    .option('--from-offset <n>', 'with --kafka: from this offset')
    .option('--from-time <iso>', 'with --kafka: from this time')
    .option('--workflow <id>', "print only this workflow's state")
    .action(action<ReplayArgs>(io, exit, async ({ options }) => replay(options, io)));
}

/** Where the records come from: an exported file, or the topics retained on the Kafka broker. */
async function replaySourceFrom(values: ReplayArgs, io: CliIo): Promise<{ source: ReplaySource; close(): Promise<void> }> {
  if (values.kafka) {
    if (values.file) throw new UsageError('give either --file or --kafka, not both');
    const infra = loadInfra(io.env);
    if (!infra.KAFKA_BROKERS) throw new UsageError('replay --kafka needs KAFKA_BROKERS (e.g. KAFKA_BROKERS=127.0.0.1:9092 amas replay --kafka)');
    if (values.fromOffset !== undefined && values.fromTime !== undefined) throw new UsageError('give --from-offset or --from-time, not both');
    const range: ReadRange = {};
    if (values.fromOffset !== undefined) {
      const offset = Number(values.fromOffset);
      if (!Number.isInteger(offset) || offset < 0) throw new UsageError(`--from-offset "${values.fromOffset}" is not a non-negative integer`);
      range.fromOffset = offset;
    }
    if (values.fromTime !== undefined) {
      const time = Date.parse(values.fromTime);
      if (!Number.isFinite(time)) throw new UsageError(`--from-time "${values.fromTime}" is not a date (e.g. 2026-11-25T10:00:00Z)`);
      range.fromTime = time;
    }
    const known = new Set<string>(allTopics);
    for (const topic of values.topic ?? [])
      if (!known.has(topic)) throw new UsageError(`--topic "${topic}" is not an orchestration topic (${allTopics.join(', ')})`);
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

async function replay(values: ReplayArgs, io: CliIo): Promise<number> {
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
