import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import { loadInfra } from '../../shared/env.js';
import type { Subtask, Workflow } from '../../shared/domain/workflow.js';
import { createIds } from '../../shared/adapters/memory/ids.js';
import { systemClock } from '../../shared/adapters/memory/clock.system.js';
import { reclaimLostWork, resumesAfterRestart } from '../../shared/engine/resume.js';
import { startEmbedded, type Embedded } from './helpers/embedded.js';

const description = 'Research AI market trends and create presentation';

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  for (const deadline = Date.now() + timeoutMs; ; await new Promise((r) => setTimeout(r, 20))) {
    const found = await probe();
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`not within ${timeoutMs} ms: ${what}`);
  }
}

const submit = async (e: Embedded, text: string): Promise<string> => {
  const answer = await e.post('/v1/tasks', { description: text });
  expect(answer.status).toBe(202);
  return answer.body.workflowId as string;
};

/** Each subtask's transitions into `completed`, as the store's change log recorded them across both processes. */
async function completions(dataDir: string, workflowId: string): Promise<Map<string, number>> {
  const sql = await createPgliteClient(dataDir);
  try {
    const { rows } = await sql.query<{ subtask_id: string; n: number }>(
      `SELECT subtask_id, count(*)::int AS n FROM state_changes WHERE workflow_id = $1 AND subtask_id IS NOT NULL AND status = 'completed' GROUP BY subtask_id`,
      [workflowId],
    );
    return new Map(rows.map((r) => [r.subtask_id, r.n]));
  } finally {
    await sql.close();
  }
}

describe('embedded persistence (AMAS_DATA_DIR)', () => {
  let dataDir: string;
  const running: Embedded[] = [];
  const start = async (env: Record<string, string>) => {
    const embedded = await startEmbedded(env, {}, dataDir);
    running.push(embedded);
    return embedded;
  };
  const stop = async (embedded: Embedded) => {
    running.splice(running.indexOf(embedded), 1);
    await embedded.stop();
  };
  afterEach(async () => {
    for (const embedded of running.splice(0)) await embedded.stop().catch(() => undefined);
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('`npm start` keeps its data in ./.amas-data unless told `memory`; a server or a Kafka bus needs no resume', () => {
    expect(loadInfra({}).AMAS_DATA_DIR).toBe('./.amas-data');
    expect(loadInfra({ AMAS_DATA_DIR: '/var/lib/amas' }).AMAS_DATA_DIR).toBe('/var/lib/amas');
    expect(loadInfra({ AMAS_DATA_DIR: 'memory' }).AMAS_DATA_DIR).toBeNull();
    expect(resumesAfterRestart(loadInfra({}))).toBe(true);
    expect(resumesAfterRestart(loadInfra({ AMAS_DATA_DIR: 'memory' }))).toBe(false);
    expect(resumesAfterRestart(loadInfra({ DATABASE_URL: 'postgres://db/amas', AMAS_DATA_DIR: 'memory' }))).toBe(true);
    expect(resumesAfterRestart(loadInfra({ KAFKA_BROKERS: 'kafka:9092' }))).toBe(false);
  });

  it('a completed workflow is still listed after a restart', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'amas-data-'));
    const first = await start({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5' });
    const id = await submit(first, description);
    expect((await first.settle(id)).status).toBe('completed');
    const before = (await first.get(`/v1/workflows/${id}`)).body;
    await stop(first);

    const second = await start({});
    const listed = await second.get<{ workflows: { workflowId: string; status: string }[] }>('/v1/workflows?status=completed');
    expect(listed.body.workflows.map((w) => w.workflowId)).toContain(id);
    expect((await second.get(`/v1/workflows/${id}`)).body).toEqual(before);
  }, 60_000);

  it('a crash mid-flight: the next process completes every workflow, each subtask completed exactly once', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'amas-data-'));
    const first = await start({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '400' });
    const store = first.runtime.ports.store;
    const midFlight = await submit(first, description);
    await until('some subtasks completed while others run', async () => {
      const subtasks = await store.getSubtasks(midFlight);
      const has = (status: Subtask['status']) => subtasks.some((s) => s.status === status);
      return has('completed') && has('in_progress') ? subtasks : undefined;
    });

    // The crash: every agent dies mid-work (never answers), the functions stop with whatever is on
    // the bus unread, and the bus, the leases and the directory (all in memory) are gone.
    const agents = first.runtime.demoAgents!;
    for (const agentId of agents.agentIds()) agents.kill(agentId);
    await first.runtime.stop();
    // Submitted while no function runs: one task published to the bus but never read (the old
    // process's bus loses it), one committed but never published (its outbox row waits for a relay).
    const published = await submit(first, 'Analyse churn data and write a report');
    await store.drainOutbox(100, async (rows) => {
      for (const row of rows) await first.bus.publish(row.topic, [{ key: row.key, event: row.event }]);
    });
    expect((await store.pendingOutbox(10)).length).toBe(0);
    const unpublished = await submit(first, 'Fix the login bug');
    expect((await store.pendingOutbox(10)).length).toBe(1);
    const lostInFlight = (await store.getSubtasks(midFlight)).filter((s) => s.status === 'in_progress');
    const doneBefore = (await store.getSubtasks(midFlight)).filter((s) => s.status === 'completed');
    expect(lostInFlight.length).toBeGreaterThan(0);
    expect(doneBefore.length).toBeGreaterThan(0);
    expect((await store.getWorkflow(published))?.status).toBe('pending');
    expect((await store.getWorkflow(unpublished))?.status).toBe('pending');
    await stop(first);

    const second = await start({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '20' });
    const finished: Workflow[] = [];
    for (const id of [midFlight, published, unpublished]) finished.push(await second.settle(id, 30_000));
    expect(finished.map((w) => w.status)).toEqual(['completed', 'completed', 'completed']);
    await second.quiesce();
    const final = await second.runtime.ports.store.getSubtasks(midFlight);
    expect(final.map((s) => s.status)).toEqual(final.map(() => 'completed'));
    // Work done before the crash stands; work lost with the crash ran once more, on a live agent.
    for (const s of doneBefore)
      expect(final.find((f) => f.id === s.id)).toMatchObject({ attempts: s.attempts, assignedAgent: s.assignedAgent, output: s.output });
    for (const s of lostInFlight) expect(final.find((f) => f.id === s.id)?.attempts).toBe(s.attempts + 1);
    for (const s of final) expect(agentsOf(second)).toContain(s.assignedAgent);
    await stop(second);

    const completedTimes = await completions(dataDir, midFlight);
    expect([...completedTimes.keys()].sort()).toEqual(final.map((s) => s.id).sort());
    expect([...completedTimes.values()]).toEqual(final.map(() => 1));
  }, 60_000);

  it('work lost with the process is handed back: in progress reported lost to complete, assigned-not-dispatched to assign', () => {
    const subtask = (id: string, patch: Partial<Subtask>): Subtask =>
      ({
        id,
        workflowId: 'wf_1',
        title: id,
        description: id,
        specialty: 'data_analyst',
        phase: 'analysis',
        estimatedMinutes: 1,
        priority: 1,
        dependsOn: [],
        successCriteria: [],
        qualityCheckpoints: [],
        reviewRequired: false,
        status: 'pending',
        assignedAgent: null,
        attempts: 0,
        leaseToken: null,
        deadline: null,
        quality: null,
        output: null,
        lastError: null,
        version: 3,
        updatedAt: '2025-01-01T00:00:00.000Z',
        ...patch,
      }) as Subtask;
    const subtasks = [
      subtask('st_done', { status: 'completed', attempts: 1, assignedAgent: 'demo-data_analyst-1', leaseToken: 1 }),
      subtask('st_running', { status: 'in_progress', attempts: 2, assignedAgent: 'demo-data_analyst-abc', leaseToken: 2 }),
      subtask('st_assigned', { status: 'ready', attempts: 1, assignedAgent: 'demo-data_analyst-2' }),
      subtask('st_waiting', { status: 'ready' }),
      subtask('st_blocked', { status: 'pending' }),
    ];
    const deps = { store: {} as never, clock: systemClock, ids: createIds(), source: 'test' };
    const change = reclaimLostWork({ id: 'wf_1' } as Workflow, subtasks, 'resume_x:wf_1', deps)!;
    expect(change).toMatchObject({
      consumer: 'resume',
      eventId: 'resume_x:wf_1',
      subtaskUpdates: [{ id: 'st_assigned', expectedVersion: 3, patch: { assignedAgent: null } }],
    });
    expect(change.outbox!.map((m) => [m.topic, m.key, m.event.type, m.event.data])).toEqual([
      [
        'amas.subtasks.results',
        'wf_1',
        'subtask.failed',
        expect.objectContaining({ subtaskId: 'st_running', attempt: 2, agentId: 'demo-data_analyst-abc', leaseToken: 2, cause: 'agent_lost' }),
      ],
      ['amas.subtasks.ready', 'wf_1', 'subtask.ready', expect.objectContaining({ subtaskId: 'st_assigned', attempt: 2, excludeAgents: [] })],
    ]);
    expect(reclaimLostWork({ id: 'wf_1' } as Workflow, [subtasks[0]!, subtasks[3]!], 'resume_y:wf_1', deps)).toBeNull();
  });
});

const agentsOf = (e: Embedded): string[] => e.runtime.demoAgents!.agentIds();

interface Served {
  child: ChildProcess;
  url: string;
  output: () => string;
}

/** The embedded entry point (`npm start`) on a free port over `dataDir`, whatever servers the calling shell configured. */
async function serve(dataDir: string, env: Record<string, string>): Promise<Served> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, PORT: '0', AMAS_DATA_DIR: dataDir, ORCHESTRATION_PLAN_APPROVAL: 'off', ...env };
  for (const server of ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL', 'NEO4J_URL']) delete childEnv[server];
  const child = spawn(process.execPath, ['--import', 'tsx', 'shared/runtime/main-embedded.ts'], { env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const port = await until(`the listening line (${output.slice(-2_000)})`, async () => /listening on http:\/\/localhost:(\d+)/.exec(output)?.[1], 60_000);
  return { child, url: `http://127.0.0.1:${port}`, output: () => output };
}

const getJson = async <T>(url: string): Promise<T> => (await fetch(url)).json() as Promise<T>;
type View = { status: string; subtasks: { id: string; status: string; attempts: number }[] };

describe('`npm start` killed mid-flight (SIGKILL) resumes on the next start', () => {
  const children: ChildProcess[] = [];
  let dataDir: string | undefined;
  afterEach(() => {
    for (const child of children.splice(0)) if (child.exitCode === null) child.kill('SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('a workflow running when the process is killed completes after the restart', async () => {
    dataDir = mkdtempSync(join(tmpdir(), 'amas-data-'));
    const first = await serve(join(dataDir, 'nested', 'store'), { ORCHESTRATION_DEMO_AGENT_DELAY_MS: '1500' });
    children.push(first.child);
    expect(first.output()).toMatch(/state {5}: PGlite \(in-process PostgreSQL\) at .*nested\/store: kept across restarts/);
    const submitted = await fetch(`${first.url}/v1/tasks`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ description }),
    });
    const { workflowId } = (await submitted.json()) as { workflowId: string };
    const before = await until('a subtask completed while another runs', async () => {
      const view = await getJson<View>(`${first.url}/v1/workflows/${workflowId}`);
      const has = (status: string) => view.subtasks.some((s) => s.status === status);
      return has('completed') && has('in_progress') ? view : undefined;
    });
    first.child.kill('SIGKILL');
    await new Promise((resolve) => first.child.once('exit', resolve));

    const second = await serve(join(dataDir, 'nested', 'store'), { ORCHESTRATION_DEMO_AGENT_DELAY_MS: '20' });
    children.push(second.child);
    const after = await until(
      'the workflow completes',
      async () => {
        const view = await getJson<View>(`${second.url}/v1/workflows/${workflowId}`);
        return view.status === 'completed' ? view : undefined;
      },
      30_000,
    );
    expect(after.subtasks.map((s) => s.status)).toEqual(after.subtasks.map(() => 'completed'));
    // A subtask completed before the kill was not run again; one in progress ran once more.
    for (const s of before.subtasks.filter((b) => b.status === 'completed')) expect(after.subtasks.find((a) => a.id === s.id)?.attempts).toBe(s.attempts);
    expect(second.output()).toMatch(/"lost":[1-9].*resumed the workflows active before the restart/);
  }, 120_000);
});
