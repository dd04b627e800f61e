import { describe, expect, it } from 'vitest';
import { waitingOrderOf } from '../../shared/domain/scheduling.js';
import type { Priority } from '../../shared/domain/vocabulary.js';
import { isoTime, makeEvent, taskSubmitted } from '../../shared/events/index.js';
import { toOutbox } from '../../shared/engine/process-event.js';
import { startEmbedded, type Embedded } from './helpers/embedded.js';

/** One slot per specialty and no spawning: every subtask of a backlog waits for that one slot. */
const scarce = {
  ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: '1',
  ORCHESTRATION_MAX_TASKS_PER_AGENT: '1',
  ORCHESTRATION_MAX_AGENTS_PER_POOL: '1',
  ORCHESTRATION_MAX_WORKFLOWS: '1000',
};
/** A SIMPLE request: one subtask, for the content writer (a bug fix is planned for technical specialists). */
const task = (n: number | string) => `Summarise note #${n}`;
const specialty = 'content_writer_editor';

interface Logged {
  seq: number;
  type: string;
  data: { workflowId: string; subtaskId?: string };
}

/** The bus log in publish order, each event once (a re-publish keeps its first place). */
function log(e: Embedded): Logged[] {
  const seen = new Set<string>();
  const events: Logged[] = [];
  for (const record of e.bus.exportLog()) {
    const event = record.value as { id: string; type: string; data: Logged['data'] };
    if (seen.has(event.id)) continue;
    seen.add(event.id);
    events.push({ seq: record.seq, type: event.type, data: event.data });
  }
  return events;
}

async function until(what: string, check: () => Promise<boolean>, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const waiting = async (e: Embedded) =>
  (await e.runtime.ports.store.findWaitingSubtasks([specialty], 10_000, waitingOrderOf(e.config, e.runtime.ports.clock.now()))).length;

/** Submits as POST /v1/tasks does, for a tenant (the API names none until authentication does). */
async function submitFor(e: Embedded, tenant: string, description: string, priority: Priority = 'NORMAL'): Promise<string> {
  const { store, ids, clock } = e.runtime.ports;
  const workflowId = ids.newId('wf');
  const submitted = makeEvent(
    taskSubmitted,
    { workflowId, description, priority, metadata: {}, requireApproval: false },
    { ids, clock, source: 'test/scheduling' },
  );
  await store.createWorkflow(
    { id: workflowId, description, priority, metadata: {}, idempotencyKey: null, createdAt: isoTime(clock.now()), tenant },
    toOutbox([submitted]),
  );
  e.runtime.relay.kick();
  return workflowId;
}

async function post(e: Embedded, description: string, priority: Priority): Promise<string> {
  const response = await e.post('/v1/tasks', { description, priority });
  expect(response.status).toBe(202);
  return response.body.workflowId as string;
}

describe('fair, priority-aware scheduling of waiting work', () => {
  it("a HIGH workflow's first subtask takes the next freed slot of its specialty, ahead of 200 queued LOW workflows", async () => {
    const e = await startEmbedded({ ...scarce, ORCHESTRATION_DEMO_AGENT_DELAY_MS: '60' });
    try {
      const lows: string[] = [];
      for (let i = 0; i < 200; i += 25) lows.push(...(await Promise.all(Array.from({ length: 25 }, (_, j) => post(e, task(i + j), 'LOW')))));
      const ours = new Set(lows);
      await until(
        'all 200 LOW workflows are planned',
        async () => log(e).filter((ev) => ev.type === 'subtask.ready' && ours.has(ev.data.workflowId)).length >= 200,
      );
      const queued = await waiting(e);
      expect(queued).toBeGreaterThanOrEqual(100);

      const high = await post(e, task('high'), 'HIGH');
      const store = e.runtime.ports.store;
      await until('the HIGH subtask is assigned', async () => (await store.getSubtasks(high)).some((s) => s.assignedAgent !== null), 15_000);

      const events = log(e);
      const readyAt = events.find((ev) => ev.type === 'subtask.ready' && ev.data.workflowId === high)!.seq;
      const assignedAt = events.find((ev) => ev.type === 'subtask.assigned' && ev.data.workflowId === high)!.seq;
      const between = events.filter((ev) => ev.seq > readyAt && ev.seq < assignedAt);
      const freed = between.filter((ev) => ev.type === 'subtask.completed' || ev.type === 'subtask.failed').length;
      const lowsAssigned = between.filter((ev) => ev.type === 'subtask.assigned').length;
      console.log(`HIGH assigned after ${freed} freed slot(s) (${lowsAssigned} LOW assignment(s) published meanwhile), with ${queued} LOW subtasks waiting`);
      // The slot freed next is the HIGH one's (a LOW granted just before it was ready may still be published after it).
      expect(freed).toBeLessThanOrEqual(1);
      expect(lowsAssigned).toBeLessThanOrEqual(1);
    } finally {
      await e.stop();
    }
  }, 120_000);

  it('two tenants submitting 10:1 share a contended slot equally while both have work waiting', async () => {
    const e = await startEmbedded({ ...scarce, ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5' });
    try {
      const tenantOf = new Map<string, string>();
      for (let i = 0; i < 100; i += 20) {
        for (const id of await Promise.all(Array.from({ length: 20 }, (_, j) => submitFor(e, 'a', task(`a${i + j}`))))) tenantOf.set(id, 'a');
      }
      const bs = await Promise.all(Array.from({ length: 10 }, (_, i) => submitFor(e, 'b', task(`b${i}`))));
      for (const id of bs) tenantOf.set(id, 'b');
      await Promise.all(bs.map((id) => e.settle(id, 60_000)));

      const events = log(e).filter((ev) => tenantOf.has(ev.data.workflowId));
      const start = events.find((ev) => ev.type === 'subtask.ready' && tenantOf.get(ev.data.workflowId) === 'b')!.seq;
      const grants = events.filter((ev) => ev.type === 'subtask.assigned');
      const end = grants.filter((ev) => tenantOf.get(ev.data.workflowId) === 'b').at(-1)!.seq;
      const window = grants.filter((ev) => ev.seq >= start && ev.seq <= end).map((ev) => tenantOf.get(ev.data.workflowId));
      const a = window.filter((t) => t === 'a').length;
      const b = window.filter((t) => t === 'b').length;
      const aTotal = grants.filter((ev) => ev.seq <= end && tenantOf.get(ev.data.workflowId) === 'a').length;
      console.log(`tenants a:b slots ${a}:${b} while both had work waiting (a submitted 100, b 10; a share ${((100 * a) / (a + b)).toFixed(1)} %)`);
      expect(b).toBe(10);
      expect(aTotal).toBeLessThan(100); // a still had work waiting when b's last was granted
      expect(Math.abs(a / (a + b) - 0.5)).toBeLessThanOrEqual(0.05);
    } finally {
      await e.stop();
    }
  }, 120_000);

  it('aging: a LOW subtask that waited longer than two aging periods goes before fresh NORMAL work', async () => {
    const agingSeconds = 1;
    const e = await startEmbedded({ ...scarce, ORCHESTRATION_DEMO_AGENT_DELAY_MS: '4000', ORCHESTRATION_PRIORITY_AGING_SECONDS: String(agingSeconds) });
    try {
      const store = e.runtime.ports.store;
      const blocker = await post(e, task('blocker'), 'NORMAL');
      await until('the blocker holds the slot', async () => (await store.getSubtasks(blocker)).some((s) => s.status === 'in_progress'));
      const low = await post(e, task('low'), 'LOW');
      await until('the LOW subtask waits', async () => (await store.getSubtasks(low)).some((s) => s.status === 'ready'));
      const lowReadyAt = Date.parse((await store.getSubtasks(low))[0]!.updatedAt);
      await new Promise((resolve) => setTimeout(resolve, 2_200));
      const normal = await post(e, task('normal'), 'NORMAL');
      await until('the NORMAL subtask waits', async () => (await store.getSubtasks(normal)).some((s) => s.status === 'ready'));
      const waitedPeriods = (Date.parse((await store.getSubtasks(normal))[0]!.updatedAt) - lowReadyAt) / 1000 / agingSeconds;
      expect(waitedPeriods).toBeGreaterThan(2);
      expect((await store.getSubtasks(blocker))[0]!.status).toBe('in_progress'); // nothing was freed yet

      await until(
        'the LOW or the NORMAL subtask is assigned',
        async () => (await Promise.all([low, normal].map((id) => store.getSubtasks(id)))).flat().some((s) => s.assignedAgent !== null),
        15_000,
      );
      const [lowSubtask] = await store.getSubtasks(low);
      const [normalSubtask] = await store.getSubtasks(normal);
      console.log(
        `LOW was ready ${waitedPeriods.toFixed(1)} aging periods (${agingSeconds} s) before the NORMAL; the freed slot went to: LOW ${lowSubtask!.assignedAgent ?? 'waiting'}, NORMAL ${normalSubtask!.assignedAgent ?? 'waiting'}`,
      );
      expect(lowSubtask!.assignedAgent).not.toBeNull();
      expect(normalSubtask!.assignedAgent).toBeNull();
    } finally {
      await e.stop();
    }
  }, 60_000);
});
