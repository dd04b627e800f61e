import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { StateChangeRecord } from '../../shared/api/stream.js';
import { startEmbedded, type Embedded, type WorkflowBody } from './helpers/embedded.js';
import { readStream, type SseMessage } from './helpers/sse.js';

const crm = 'Build enterprise CRM integration with compliance review'; // the planner makes 10 subtasks of it
const changesOf = (messages: SseMessage[]) => messages.filter((m) => m.event === 'change').map((m) => m.data as StateChangeRecord);
const position = (cursor: string) => cursor.split('-').map((n) => BigInt(n)) as [bigint, bigint];
const before = (a: string, b: string) => {
  const [at, as] = position(a);
  const [bt, bs] = position(b);
  return at < bt || (at === bt && as < bs);
};

describe('live state-change streams (SSE)', () => {
  let e: Embedded;
  beforeAll(async () => {
    e = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '20' });
  });
  afterAll(async () => {
    await e.stop();
  });

  it('streams every state change of a 10-subtask workflow once, in order, then ends', async () => {
    const submitted = await e.post<{ workflowId: string }>('/v1/tasks', { description: crm });
    const id = submitted.body.workflowId;
    const { messages, ended } = await readStream(`${e.baseUrl}/v1/workflows/${id}/events`);
    expect(ended).toBe(true);
    expect(messages.at(-1)).toEqual({ event: 'end', data: { workflowId: id, status: 'completed' } });
    const changes = changesOf(messages);
    // Each change once, in feed order, and the SSE id is its cursor.
    expect(new Set(changes.map((c) => c.cursor)).size).toBe(changes.length);
    for (let i = 1; i < changes.length; i++) expect(before(changes[i - 1]!.cursor, changes[i]!.cursor)).toBe(true);
    for (const m of messages.filter((m) => m.event === 'change')) expect(m.id).toBe((m.data as StateChangeRecord).cursor);
    // The workflow's final change is recorded at its transaction's commit: after the last subtask's.
    expect(changes.at(-1)).toMatchObject({ kind: 'workflow', status: 'completed' });

    const workflow = (await e.get<WorkflowBody>(`/v1/workflows/${id}`)).body;
    expect(workflow.subtasks).toHaveLength(10);
    // Decompose takes a workflow without approval straight from pending to running.
    expect(changes.filter((c) => c.kind === 'workflow').map((c) => c.status)).toEqual(['pending', 'running', 'completed']);
    for (const subtask of workflow.subtasks) {
      const own = changes.filter((c) => c.subtaskId === subtask.id);
      // Created at decomposition, then each status change exactly as the store went through it.
      expect(own[0]!.previousStatus).toBeNull();
      for (let i = 1; i < own.length; i++) expect(own[i]!.previousStatus).toBe(own[i - 1]!.status);
      expect(own.at(-1)).toMatchObject({ status: 'completed', agentId: subtask.assignedAgent, attempt: subtask.attempts, quality: subtask.quality });
      expect(own.filter((c) => c.status === 'in_progress' && c.previousStatus !== 'in_progress')).toHaveLength(subtask.attempts);
      // Dependencies finish before a dependent starts.
      const started = own.find((c) => c.status === 'in_progress')!;
      for (const dependency of subtask.dependsOn) {
        const done = changes.find((c) => c.subtaskId === dependency && c.status === 'completed')!;
        expect(before(done.cursor, started.cursor)).toBe(true);
      }
    }

    // Resuming after the fifth change (Last-Event-ID) replays exactly the rest.
    const resumed = await readStream(`${e.baseUrl}/v1/workflows/${id}/events`, { headers: { 'Last-Event-ID': changes[4]!.cursor } });
    expect(changesOf(resumed.messages)).toEqual(changes.slice(5));
    expect(resumed.messages.at(-1)?.event).toBe('end');
  });

  it('GET /v1/events streams the changes of every workflow submitted while connected', async () => {
    const ids: string[] = [];
    const seen = new Map<string, string>();
    const stream = readStream(`${e.baseUrl}/v1/events`, {
      onOpen: () => {
        void (async () => {
          for (const description of ['Research AI market trends and create presentation', 'Analyze churn data']) {
            ids.push((await e.post<{ workflowId: string }>('/v1/tasks', { description })).body.workflowId);
          }
        })();
      },
      until: (m) => {
        const change = m.data as StateChangeRecord;
        if (m.event === 'change' && change.kind === 'workflow') seen.set(change.workflowId, change.status);
        return ids.length === 2 && ids.every((id) => ['completed', 'failed', 'cancelled'].includes(seen.get(id) ?? ''));
      },
    });
    const { messages } = await stream;
    for (const id of ids) expect(seen.get(id)).toBe('completed');
    const workflowsSeen = new Set(changesOf(messages).map((c) => c.workflowId));
    for (const id of ids) expect(workflowsSeen.has(id)).toBe(true);
  });

  it('answers 404 for an unknown workflow and 400 for a malformed cursor', async () => {
    expect((await fetch(`${e.baseUrl}/v1/workflows/wf_nope/events`)).status).toBe(404);
    const bad = await fetch(`${e.baseUrl}/v1/events?after=yesterday`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { issues: { path: string }[] }).issues[0]!.path).toBe('after');
    const header = await fetch(`${e.baseUrl}/v1/events`, { headers: { 'Last-Event-ID': '12;drop table' } });
    expect(header.status).toBe(400);
  });
});

describe('a stream client that stops reading', () => {
  it('is dropped and does not slow the pipeline', async () => {
    const e = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5' }, { stream: { maxBufferedBytes: 16 * 1024 } });
    try {
      const runBatch = async (n: number) => {
        const started = performance.now();
        const ids = await Promise.all(
          Array.from({ length: n }, async () => (await e.post<{ workflowId: string }>('/v1/tasks', { description: crm })).body.workflowId),
        );
        for (const id of ids) expect((await e.settle(id, 60_000)).status).toBe('completed');
        return performance.now() - started;
      };
      await runBatch(2); // warm-up
      const baseline = await runBatch(10);

      // A client that opens the all-workflows stream and never reads a byte.
      const socket = connect(Number(new URL(e.baseUrl).port), '127.0.0.1');
      let closedByServer = false;
      socket.on('close', () => (closedByServer = true));
      socket.on('error', () => undefined);
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.write('GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n');
      socket.pause();
      const withStalled = await runBatch(10);
      for (let i = 0; i < 100 && !closedByServer; i++) await new Promise((r) => setTimeout(r, 50));
      socket.destroy();

      const metrics = (await e.get<string>('/metrics')).body;
      const dropped = Number(/orchestration_stream_clients_dropped_total\{stream="all"\} (\d+)/.exec(metrics)?.[1] ?? 0);
      process.stdout.write(
        `slow SSE client: 10 workflows in ${baseline.toFixed(0)} ms without it, ${withStalled.toFixed(0)} ms with it (${(withStalled / baseline).toFixed(2)}x); dropped ${dropped}\n`,
      );
      expect(dropped).toBe(1);
      expect(closedByServer).toBe(true);
      // Generous bound for a noisy shared machine: a blocking fan-out would stall the run outright.
      expect(withStalled).toBeLessThan(baseline * 2 + 2_000);
    } finally {
      await e.stop();
    }
  }, 120_000);
});
