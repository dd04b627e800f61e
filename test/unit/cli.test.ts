import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, type CliIo } from '../../shared/runtime/cli.js';
import { startEmbedded, type Embedded, type WorkflowBody } from './helpers/embedded.js';

let embedded: Embedded;

beforeAll(async () => {
  embedded = await startEmbedded();
}, 60_000);
afterAll(async () => {
  await embedded?.stop();
});

/** Runs `amas …` against the embedded API (or `env`'s AMAS_URL) and collects what it printed. */
async function amas(argv: string[], options: { env?: Record<string, string>; tty?: boolean } = {}) {
  let out = '';
  let err = '';
  const io: CliIo = {
    out: (t) => void (out += t),
    err: (t) => void (err += t),
    env: { AMAS_URL: embedded.baseUrl, ...options.env },
    isTTY: options.tty,
    columns: 120,
  };
  const code = await runCli(argv, io);
  return { code, out, err };
}

async function until<T>(read: () => Promise<T>, ok: (value: T) => boolean, what: string, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (ok(value)) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

const statusOf = async (id: string) => (await embedded.get<WorkflowBody>(`/v1/workflows/${id}`)).body.status;

describe('amas CLI against the embedded runtime', () => {
  it('`amas --help` exits 0 and lists every command', async () => {
    const { code, out } = await amas(['--help']);
    expect(code).toBe(0);
    for (const command of [
      'submit',
      'status',
      'list',
      'watch',
      'cancel',
      'pause',
      'resume',
      'approve',
      'reject',
      'agents',
      'dlq',
      'replay',
      'config',
      'migrate',
    ]) {
      expect(out).toMatch(new RegExp(`^  ${command}\\b`, 'm'));
    }
  });

  it('`submit --wait` follows the live stream, one line per change, and exits 0 with the final status completed', async () => {
    const { code, out, err } = await amas(['submit', 'Research AI market trends and create presentation', '--wait', '--priority', 'high']);
    expect(err).toBe('');
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    const workflowId = lines[0]!;
    expect(workflowId).toMatch(/^wf_/);
    const view = (await embedded.get<WorkflowBody>(`/v1/workflows/${workflowId}`)).body;
    expect(view.status).toBe('completed');
    expect(view.priority).toBe('HIGH');
    const total = view.subtasks.length;
    expect(lines.at(-1)).toBe(`${workflowId} completed: ${total}/${total} subtasks completed`);
    // Every subtask's completion arrives once, and the counter reaches total/total.
    for (const s of view.subtasks) expect(lines.filter((l) => l.includes(`subtask ${s.id} (`) && l.includes('-> completed'))).toHaveLength(1);
    expect(lines.filter((l) => /^\[\d+\/\d+\] workflow running -> completed/.test(l))).toHaveLength(1);
  });

  it('on a terminal it redraws one progress line with a bar and the current phase', async () => {
    const { code, out } = await amas(['submit', 'Analyze quarterly sales data', '--wait'], { tty: true });
    expect(code).toBe(0);
    expect(out).toContain('\r\x1b[2K');
    expect(out).toMatch(/\[█*░*\] \d+\/\d+ subtasks \d+%/);
    expect(out).toMatch(/phase (research|analysis|production|qa|delivery)/);
    expect(out).toMatch(/wf_\S+ completed: (\d+)\/\1 subtasks completed\n$/);
  });

  it('`--json` output of submit, status, list and agents parses, with the expected fields', async () => {
    const submitted = await amas(['submit', 'Write a security review', '--json', '--metadata', '{"team":"cli"}', '--idempotency-key', 'cli-json-1']);
    expect(submitted.code).toBe(0);
    const answer = JSON.parse(submitted.out) as { workflowId: string; status: string; created: boolean };
    expect(answer).toMatchObject({ workflowId: expect.stringMatching(/^wf_/), created: true });
    await embedded.settle(answer.workflowId);

    const status = await amas(['status', answer.workflowId, '--json']);
    const view = JSON.parse(status.out) as WorkflowBody;
    expect(view).toMatchObject({ workflowId: answer.workflowId, status: 'completed', metadata: { team: 'cli' } });
    expect(view.subtasks.length).toBeGreaterThan(0);
    for (const s of view.subtasks)
      expect(Object.keys(s)).toEqual(expect.arrayContaining(['id', 'phase', 'specialty', 'status', 'assignedAgent', 'attempts', 'quality']));

    const list = JSON.parse((await amas(['list', '--json', '--status', 'completed', '--limit', '500'])).out) as {
      workflows: { workflowId: string; status: string }[];
      total: number;
    };
    expect(list.workflows.map((w) => w.workflowId)).toContain(answer.workflowId);
    expect(list.workflows.every((w) => w.status === 'completed')).toBe(true);
    expect(list.total).toBeGreaterThanOrEqual(list.workflows.length);

    const agents = JSON.parse((await amas(['agents', '--json'])).out) as {
      agents: { id: string; layer: string; status: string }[];
      hierarchy: { layers: Record<string, unknown> };
    };
    expect(agents.agents.length).toBeGreaterThan(0);
    expect(agents.agents[0]).toMatchObject({ id: expect.any(String), layer: expect.any(String), status: expect.any(String) });
    expect(Object.keys(agents.hierarchy.layers).sort()).toEqual(['EXECUTION', 'EXECUTIVE', 'MANAGEMENT', 'SPECIALIST']);

    const waited = await amas(['submit', 'Summarize customer feedback', '--json', '--wait']);
    expect(waited.code).toBe(0);
    expect(JSON.parse(waited.out)).toMatchObject({ status: 'completed', progress: { percent: 100 }, subtasks: expect.any(Array) });

    const dlq = JSON.parse((await amas(['dlq', 'list', '--json'])).out) as { deadLetters: unknown[]; total: number };
    expect(dlq).toMatchObject({ deadLetters: expect.any(Array), total: expect.any(Number) });

    // The same idempotency key answers with the first workflow.
    const again = JSON.parse(
      (await amas(['submit', 'Write a security review', '--json', '--metadata', '{"team":"cli"}', '--idempotency-key', 'cli-json-1'])).out,
    ) as typeof answer;
    expect(again).toMatchObject({ workflowId: answer.workflowId, created: false });
  });

  it('prints tables for status, list and agents', async () => {
    const { out: id } = await amas(['submit', 'Create an infographic about solar power']);
    const workflowId = id.trim();
    await embedded.settle(workflowId);
    const status = await amas(['status', workflowId]);
    expect(status.code).toBe(0);
    expect(status.out).toMatch(/^ID\s+PHASE\s+SPECIALTY\s+STATUS\s+AGENT\s+ATTEMPTS\s+QUALITY\s+ERROR$/m);
    const view = (await embedded.get<WorkflowBody>(`/v1/workflows/${workflowId}`)).body;
    for (const s of view.subtasks)
      expect(status.out).toMatch(new RegExp(`^${s.id}\\s+${s.phase}\\s+${s.specialty}\\s+completed\\s+${s.assignedAgent}\\s+\\d+\\s+\\d\\.\\d\\d\\s+-$`, 'm'));

    const list = await amas(['list', '--limit', '2']);
    expect(list.out).toMatch(/^ID\s+STATUS\s+PRIORITY\s+COMPLEXITY\s+CREATED\s+DESCRIPTION$/m);
    expect(list.out).toMatch(/^1-2 of \d+ workflows$/m);

    const agents = await amas(['agents']);
    expect(agents.out).toMatch(/^ID\s+LAYER\s+ROLE\s+STATUS\s+LOAD\s+DONE\s+FAILED\s+QUALITY$/m);
    expect(agents.out).toMatch(/layers: executive \d+/);
  });

  it('`watch` sees a workflow wait for approval; `approve` lets it complete (exit 0)', async () => {
    const workflowId = (await amas(['submit', 'Research competitors and summarize', '--require-approval'])).out.trim();
    const watching = amas(['watch', workflowId]);
    await until(
      () => statusOf(workflowId),
      (s) => s === 'awaiting_approval',
      'awaiting_approval',
    );
    const approved = await amas(['approve', workflowId]);
    expect(approved).toMatchObject({ code: 0, out: `${workflowId} completed\n` });
    const watched = await watching;
    expect(watched.code).toBe(0);
    expect(watched.out).toContain(`workflow awaits delivery approval: amas approve ${workflowId}`);
    expect(watched.out).toContain(`${workflowId} completed:`);
  });

  it('`reject --reason` ends a workflow; `watch` exits 1 and prints the reason', async () => {
    const workflowId = (await amas(['submit', 'Draft a press release', '--require-approval'])).out.trim();
    await until(
      () => statusOf(workflowId),
      (s) => s === 'awaiting_approval',
      'awaiting_approval',
    );
    const rejected = await amas(['reject', workflowId, '--reason', 'not what we asked for', '--json']);
    expect(rejected.code).toBe(0);
    const view = JSON.parse(rejected.out) as WorkflowBody;
    expect(['failed', 'cancelled']).toContain(view.status);
    const watched = await amas(['watch', workflowId]);
    expect(watched.code).toBe(1);
    expect(watched.out).toContain(`${workflowId} ${view.status}:`);
    expect(watched.out).toContain('reason: ');
    expect(watched.out).toContain('not what we asked for');
    const json = await amas(['watch', workflowId, '--json']);
    expect(json.code).toBe(1);
    expect((JSON.parse(json.out) as WorkflowBody).status).toBe(view.status);
  });

  it('`cancel` of an unknown id exits 1 with not found; an invalid request lists the issue paths', async () => {
    const cancel = await amas(['cancel', 'wf_nope']);
    expect(cancel.code).toBe(1);
    expect(cancel.err).toMatch(/not found \(HTTP 404\).*wf_nope/);
    const redrive = await amas(['dlq', 'redrive', 'nope']);
    expect(redrive.code).toBe(1);
    expect(redrive.err).toContain('not found (HTTP 404)');
    const blank = await amas(['submit', '   ']);
    expect(blank.code).toBe(1);
    expect(blank.err).toMatch(/invalid request \(HTTP 400\)\n\s+description: /);
  });

  it.each([
    [['frob'], "unknown command 'frob'"],
    [['submit', 'x', '--priority', 'asap'], "argument 'asap' is invalid"],
    [['list', '--limit', 'abc'], "argument 'abc' is invalid"],
    [['list', '--status', 'done'], "argument 'done' is invalid"],
    [['status'], "missing required argument 'id'"],
    [['cancel'], "missing required argument 'id'"],
    [['submit', 'x', '--metadata', '[1'], "argument '[1' is invalid"],
    [['status', 'wf_1', '--verbose'], "unknown option '--verbose'"],
    [['--url', 'ftp://x', 'list'], 'ftp://x'],
    [[], 'no command given'],
  ])('`amas %j` exits 2 with usage naming the bad value', async (argv, message) => {
    const { code, out, err } = await amas(argv);
    expect(code).toBe(2);
    expect(out).toBe('');
    expect(err).toContain(message);
    expect(err).toMatch(/usage: amas/);
  });

  it('an unreachable AMAS_URL exits 1 and says so', async () => {
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    for (const argv of [['list'], ['submit', 'x', '--wait'], ['watch', 'wf_1']]) {
      const { code, err } = await amas(argv, { env: { AMAS_URL: url } });
      expect(code).toBe(1);
      expect(err).toContain(`cannot reach AMAS_URL (${url}): is the server running?`);
    }
    // --url wins over AMAS_URL.
    expect((await amas(['--url', embedded.baseUrl, 'list', '--json'], { env: { AMAS_URL: url } })).code).toBe(0);
  });
});

/** A port nothing listens on. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}
