import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../shared/config.js';
import { functionSubscriptions } from '../../shared/events/index.js';
import { runCli } from '../../shared/runtime/cli.js';
import { createReplayPorts, exportLog, parseLog, replayLog, LogFormatError, type ReplayPorts, type ReplaySummary } from '../../shared/engine/replay.js';
import { decided, startEmbedded, type Embedded } from './helpers/embedded.js';

const env = { ORCHESTRATION_DEMO_AGENT_DELAY_MS: '15', ORCHESTRATION_DEMO_LOW_QUALITY_RATE: '0.4', ORCHESTRATION_PLAN_APPROVAL: 'off' };
const descriptions = [
  'Research AI market trends and create presentation',
  'Build a REST API for customer orders with tests',
  'Analyse churn data and write a report',
  'Design a marketing campaign for a product launch',
  'Write technical documentation for the payment service',
];

describe('replay of an exported event log', () => {
  let live: Embedded;
  let replayed: ReplayPorts;
  let jsonl: string;
  let summary: ReplaySummary;
  const workflowIds: string[] = [];

  beforeAll(async () => {
    live = await startEmbedded(env);
    const accepted = await Promise.all(descriptions.map((description) => live.post('/v1/tasks', { description })));
    for (const { status, body } of accepted) {
      expect(status).toBe(202);
      workflowIds.push(body.workflowId as string);
    }
    for (const id of workflowIds) expect((await live.settle(id)).status).toBe('completed');
    await live.quiesce();
    jsonl = exportLog(live.bus);
    replayed = await createReplayPorts(loadConfig(env));
    summary = await replayLog(parseLog(jsonl), replayed);
  }, 60_000);

  afterAll(async () => {
    await live?.stop();
    await replayed?.close();
  });

  it('exports one JSON record per line in global publish order', () => {
    const lines = jsonl.trimEnd().split('\n');
    expect(lines.length).toBe(live.bus.exportLog().length);
    const seqs = lines.map((line) => (JSON.parse(line) as { seq: number }).seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    expect(new Set(lines.map((line) => (JSON.parse(line) as { topic: string }).topic))).toContain('amas.subtasks.results');
  });

  it('rebuilds the same workflows and subtasks, retries included', async () => {
    expect(summary.workflowIds.sort()).toEqual([...workflowIds].sort());
    let retried = 0;
    for (const id of workflowIds) {
      const [before, after] = [await live.runtime.ports.store.getWorkflow(id), await replayed.store.getWorkflow(id)];
      expect(after?.status).toBe('completed');
      expect({ status: after?.status, plan: after?.plan, complexity: after?.complexity }).toEqual({
        status: before?.status,
        plan: before?.plan,
        complexity: before?.complexity,
      });
      const liveSubtasks = (await live.runtime.ports.store.getSubtasks(id)).map(decided);
      expect((await replayed.store.getSubtasks(id)).map(decided)).toEqual(liveSubtasks);
      retried += liveSubtasks.filter((s) => s.attempts > 1).length;
    }
    expect(retried).toBeGreaterThan(0);
  });

  it('the replayed handlers emit exactly the logged events', () => {
    expect(summary.divergences).toEqual([]);
    const consumed = (topic: string) => live.bus.exportLog().filter((r) => r.topic === topic).length;
    for (const [name, { topic }] of Object.entries(functionSubscriptions)) {
      expect(summary.processed[name as keyof typeof functionSubscriptions]).toBe(consumed(topic));
    }
    expect(summary.processed.complete).toBeGreaterThan(0);
  });

  it('`amas replay` prints the state of each workflow and exits 0; 1 on a divergence, 2 on a bad argument', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'amas-replay-'));
    const out: string[] = [];
    const err: string[] = [];
    const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), env };
    try {
      const file = join(dir, 'log.jsonl');
      await writeFile(file, jsonl);
      expect(await runCli(['replay', '--file', file, '--workflow', workflowIds[0]!], io)).toBe(0);
      expect(out.join('')).toMatch(new RegExp(`^${workflowIds[0]}  completed  subtasks: \\d+ \\(\\d+ completed\\)`, 'm'));
      expect(out.join('')).toContain('no divergence');

      expect(await runCli(['replay', '--file', file, '--workflow', 'wf_nope'], io)).toBe(2);
      expect(err.join('')).toContain('--workflow "wf_nope" is not in the log');

      // The log claims another agent took the work than the handlers choose on replay.
      const records = jsonl
        .trimEnd()
        .split('\n')
        .map((line) => JSON.parse(line) as { topic: string; value: { data: { agentId: string } } });
      records.find((r) => r.topic === 'amas.subtasks.assigned')!.value.data.agentId = 'someone-else';
      const tampered = join(dir, 'tampered.jsonl');
      await writeFile(tampered, records.map((r) => JSON.stringify(r)).join('\n'));
      expect(await runCli(['replay', '--file', tampered], io)).toBe(1);
      expect(err.join('')).toMatch(/"function":"assign".*"problem":"different"/);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('names the line of a corrupted record', () => {
    const lines = jsonl.trimEnd().split('\n');
    const broken = [...lines.slice(0, 2), '{"seq": 2, "topic": "amas.tasks"', ...lines.slice(3)].join('\n');
    expect(() => parseLog(broken)).toThrow(LogFormatError);
    expect(() => parseLog(broken)).toThrow(/^line 3: not JSON/);
    const wrongShape = [lines[0], JSON.stringify({ ...JSON.parse(lines[1]!), offset: -1 })].join('\n');
    expect(() => parseLog(wrongShape)).toThrow(/line 2: .*offset/);
  });
});
