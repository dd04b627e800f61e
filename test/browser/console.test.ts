import { once } from 'node:events';
import { readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import express from 'express';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { bundleConsole, consoleDist } from '../../scripts/build-console.js';
import { createConsoleRoutes } from '../../shared/http-api/console-routes.js';
import { startEmbedded, type Embedded, type WorkflowBody } from '../unit/helpers/embedded.js';

// The console in Debian's Chromium (never a downloaded browser) against the embedded runtime serving it.
const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const images = new URL('../../docs/images/', import.meta.url);
const bigTask =
  'Comprehensive analysis of competitor pricing and market trends with detailed financial data, a risk assessment, a compliance review and an executive presentation with charts';
const green = 'rgb(22, 163, 74)';

/** Every (subtask, status) the DAG showed, in order: recorded by the page itself, so no state is missed between polls. */
type Seen = { id: string; status: string }[];
// Page-side code goes in as text: this project's type check has no DOM library.
const recordStatuses = `
  window.seen = [];
  const record = (node) => {
    const id = node.getAttribute('data-subtask-id');
    const status = node.getAttribute('data-status');
    if (id && status && window.seen.findLast((s) => s.id === id)?.status !== status) window.seen.push({ id, status });
  };
  new MutationObserver((mutations) => {
    for (const m of mutations) {
      if (m.type === 'attributes') record(m.target);
      for (const added of m.addedNodes) if (added instanceof Element) added.querySelectorAll('[data-subtask-id]').forEach(record);
    }
  }).observe(document, { subtree: true, childList: true, attributes: true, attributeFilter: ['data-status'] });
`;

let embedded: Embedded;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

const workflow = async (id: string) => (await embedded.get<WorkflowBody>(`/v1/workflows/${id}`)).body;
const statusShown = (p: Page) => p.getByTestId('workflow-status').getAttribute('data-status');

async function until<T>(what: string, read: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

/** Submits a task from the console's form and returns the workflow id the console navigated to. */
async function submitFromForm(description: string, requireApproval = false): Promise<string> {
  await page.goto(`${embedded.baseUrl}/console/#/workflows`);
  await page.getByTestId('submit-description').fill(description);
  if (requireApproval) await page.getByTestId('submit-approval').check();
  await page.getByTestId('submit-button').click();
  await page.waitForURL(/#\/workflows\/wf_/);
  return decodeURIComponent(new URL(page.url()).hash.replace('#/workflows/', ''));
}

beforeAll(async () => {
  // Slow enough demo agents that a person (and this test) can watch nodes change and press pause in time.
  embedded = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '600' });
  browser = await chromium.launch({ executablePath: chromiumPath });
  page = await browser.newPage({ viewport: { width: 1440, height: 900 }, deviceScaleFactor: 1 });
  page.on('pageerror', (error) => pageErrors.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error') pageErrors.push(message.text());
  });
  await page.addInitScript(recordStatuses);
});

afterAll(async () => {
  await browser?.close();
  await embedded?.stop();
});

describe('web console', () => {
  it('ships the bundle that console/src builds to (npm run build:console rebuilds it)', async () => {
    for (const [name, content] of await bundleConsole()) {
      const shipped = await readFile(join(consoleDist, name)).catch(() => Buffer.alloc(0));
      expect(shipped.equals(Buffer.from(content)), `console/dist/${name} is stale: run npm run build:console`).toBe(true);
    }
  });

  it('is served by the API: / redirects to /console/, files come with their content types', async () => {
    const root = await fetch(`${embedded.baseUrl}/`, { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/console/');
    const types = { '/console/': 'text/html', '/console/app.js': 'text/javascript', '/console/app.css': 'text/css' };
    for (const [path, type] of Object.entries(types)) {
      const response = await fetch(`${embedded.baseUrl}${path}`);
      expect(response.status, path).toBe(200);
      expect(response.headers.get('content-type'), path).toContain(type);
    }
    expect((await fetch(`${embedded.baseUrl}/console/nothing.js`)).status).toBe(404);
    // Without a built bundle: 503, saying how to build it.
    const bare = express()
      .use(createConsoleRoutes(join(consoleDist, 'missing')))
      .listen(0, '127.0.0.1');
    await once(bare, 'listening');
    try {
      const response = await fetch(`http://127.0.0.1:${(bare.address() as AddressInfo).port}/console/`);
      expect(response.status).toBe(503);
      expect(await response.text()).toContain('npm run build:console');
    } finally {
      bare.close();
    }
  });

  it('submits a task from the form and draws its DAG, every node turning green live', async () => {
    const id = await submitFromForm(bigTask);
    const nodes = page.locator('[data-testid="dag"] g[data-subtask-id]');
    await nodes.first().waitFor();
    // The screenshot catches the graph mid-run (some done, some working, some waiting) when it can.
    const count = (status: string) => page.locator(`[data-testid="dag"] g[data-status="${status}"]`).count();
    const isMidRun = ([done, working, waiting]: number[]) => done! >= 2 && working! >= 1 && waiting! >= 1;
    const states = await until(
      'a mid-run or finished graph',
      async () => [await count('completed'), await count('in_progress'), await count('pending'), await nodes.count()],
      (n) => isMidRun(n) || n[0] === n[3],
    );
    const midRun = isMidRun(states);
    if (midRun) await page.screenshot({ path: new URL('console-workflow-dag.png', images).pathname, fullPage: true });
    const settled = await embedded.settle(id, 60_000);
    expect(settled.status).toBe('completed');
    const { subtasks } = await workflow(id);
    expect(subtasks.length).toBeGreaterThan(5);
    await expect.poll(() => page.locator('[data-testid="dag"] g[data-subtask-id][data-status="completed"]').count(), { timeout: 10_000 }).toBe(subtasks.length);
    expect(await nodes.count()).toBe(subtasks.length);
    expect(new Set(await nodes.evaluateAll((gs) => gs.map((g) => g.getAttribute('data-subtask-id'))))).toEqual(new Set(subtasks.map((s) => s.id)));
    // Green as painted (the colour eases in over 0.3 s).
    const fills = () =>
      page.evaluate<string[]>(`[...document.querySelectorAll('[data-testid="dag"] g[data-subtask-id] .node-stripe')].map((el) => getComputedStyle(el).fill)`);
    await expect.poll(fills).toEqual(subtasks.map(() => green));
    // Live: the page was never reloaded, and each node was seen working before it was seen completed.
    const seen = await page.evaluate<Seen>('window.seen');
    for (const s of subtasks) {
      const statuses = seen.filter((x) => x.id === s.id).map((x) => x.status);
      expect(statuses.at(-1), s.id).toBe('completed');
      expect(statuses.indexOf('in_progress'), `${s.id} went ${statuses.join(' → ')}`).toBeGreaterThanOrEqual(0);
    }
    expect(await page.getByTestId('live-mode').getAttribute('data-mode')).toBe('ended');
    expect(await statusShown(page)).toBe('completed');
    // The attempts table: one row per attempt, each with its agent, quality and how long it ran.
    const rows = page.locator('[data-testid="attempts-table"] tbody tr');
    expect(await rows.count()).toBe(subtasks.reduce((sum, s) => sum + s.attempts, 0));
    for (const s of subtasks) {
      const row = page.locator(`[data-testid="attempts-table"] tr[data-row-subtask="${s.id}"]`).last();
      await expect.poll(() => row.innerText()).toContain(s.assignedAgent!);
      expect(await row.innerText()).toContain(s.quality!.toFixed(2));
      expect(await row.innerText()).toMatch(/\d+(\.\d)? s|\d+ ms/);
    }
    if (!midRun) await page.screenshot({ path: new URL('console-workflow-dag.png', images).pathname, fullPage: true });
  });

  it('pauses and resumes a running workflow with its buttons', async () => {
    const id = await submitFromForm(bigTask);
    await until(
      'the console showing the workflow running',
      () => statusShown(page),
      (s) => s === 'running',
    );
    await page.getByTestId('btn-pause').click();
    await until(
      'the console showing it paused',
      () => statusShown(page),
      (s) => s === 'paused',
    );
    expect((await workflow(id)).status).toBe('paused');
    expect(await page.getByTestId('btn-resume').isEnabled()).toBe(true);
    expect(await page.getByTestId('btn-pause').isDisabled()).toBe(true);
    // While paused nothing new starts: what was in flight finishes, then the count stands still.
    const held = await until(
      'in-flight subtasks to finish',
      async () => (await workflow(id)).progress,
      (p) => p.inProgress === 0,
    );
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect((await workflow(id)).progress).toEqual(held);
    expect(held.completed).toBeLessThan(held.total);
    expect((await workflow(id)).status).toBe('paused');
    expect(await statusShown(page)).toBe('paused');

    await page.getByTestId('btn-resume').click();
    await until(
      'the console showing it running again',
      () => statusShown(page),
      (s) => s === 'running' || s === 'completed',
    );
    expect((await embedded.settle(id, 60_000)).status).toBe('completed');
    await until(
      'the console showing it completed',
      () => statusShown(page),
      (s) => s === 'completed',
    );
  });

  it('approves a workflow submitted with require-approval', async () => {
    const id = await submitFromForm('Write a short summary of this week of news', true);
    await until(
      'the console asking for approval',
      () => statusShown(page),
      (s) => s === 'awaiting_approval',
      30_000,
    );
    expect((await workflow(id)).status).toBe('awaiting_approval');
    expect(await page.getByTestId('btn-pause').isDisabled()).toBe(true);
    await page.getByTestId('btn-approve').click();
    await until(
      'the console showing it completed',
      () => statusShown(page),
      (s) => s === 'completed',
    );
    expect((await workflow(id)).status).toBe('completed');
    expect(await page.getByTestId('btn-approve').isDisabled()).toBe(true);
  });

  it('lists workflows with live counts per status, filtered by status', async () => {
    await page.goto(`${embedded.baseUrl}/console/#/workflows`);
    const { total } = (await embedded.get<{ total: number }>('/v1/workflows?status=completed')).body;
    expect(total).toBe(3);
    await expect.poll(() => page.getByTestId('count-completed').getAttribute('data-count')).toBe(String(total));
    // Workflows submitted elsewhere show up in the counts without a reload.
    await embedded.post('/v1/tasks', { description: 'Gather sources on battery recycling' });
    await embedded.post('/v1/tasks', { description: 'Draft a blog article about heat pumps', requireApproval: true });
    await expect.poll(() => page.getByTestId('count-all').getAttribute('data-count'), { timeout: 10_000 }).toBe('5');
    await expect.poll(() => page.getByTestId('count-awaiting_approval').getAttribute('data-count'), { timeout: 15_000 }).toBe('1');
    await expect.poll(() => page.getByTestId('count-completed').getAttribute('data-count'), { timeout: 15_000 }).toBe('4');
    const rows = page.locator('[data-testid="workflow-table"] tbody tr');
    await expect.poll(() => rows.count()).toBe(5);
    await page.getByTestId('count-completed').click();
    await expect
      .poll(async () => (await rows.evaluateAll((trs) => trs.map((tr) => tr.querySelector('[data-status]')?.getAttribute('data-status')))).join())
      .toMatch(/^(completed,?)+$/);
    await page.goto(`${embedded.baseUrl}/console/#/workflows`);
    await expect.poll(() => rows.count()).toBe(5);
    await page.screenshot({ path: new URL('console-workflows.png', images).pathname, fullPage: true });
    // The row links to its workflow's page.
    await rows.last().locator('a').first().click();
    await page.waitForURL(/#\/workflows\/wf_/);
    await page.getByTestId('workflow-status').waitFor();
  });

  it('shows the agent hierarchy: four layers, pools, load and health', async () => {
    // With work under way, so the page shows leases held.
    const { body: busy } = await embedded.post<{ workflowId: string }>('/v1/tasks', { description: bigTask });
    await page.getByTestId('nav-agents').click();
    const leases = page.locator('.tile', { hasText: 'Leases held' }).locator('.tile-value');
    await until(
      'leases held on the page',
      () => leases.innerText().catch(() => ''),
      (text) => /^[1-9]\d* \//.test(text),
      15_000,
    );
    await page.screenshot({ path: new URL('console-hierarchy.png', images).pathname, fullPage: true });
    for (const layer of ['executive', 'management', 'specialist', 'execution'])
      await expect.poll(() => page.getByTestId(`layer-${layer}`).isVisible()).toBe(true);
    const { agents } = (await embedded.get<{ agents: { id: string }[] }>('/v1/agents')).body;
    expect(await page.locator('[data-agent-id]').count()).toBe(agents.length);
    for (const pool of ['research', 'analysis', 'creative', 'technical', 'investigation', 'qa'])
      expect(await page.getByTestId(`pool-${pool}`).isVisible()).toBe(true);
    expect((await embedded.settle(busy.workflowId, 60_000)).status).toBe('completed');
    await until(
      'leases given back on the page',
      () => leases.innerText(),
      (text) => text.startsWith('0 /'),
      15_000,
    );
  });

  it('lists dead letters by topic with their reason, and redrives one', async () => {
    await embedded.bus.publish('amas.tasks', [{ key: 'poison', event: { id: 'poison-1', type: 'task.submitted', data: { nope: 1 } } as never }]);
    await page.getByTestId('nav-dead-letters').click();
    await page.locator('[data-testid="dead-letter-table"] tbody tr').first().waitFor({ timeout: 15_000 });
    // Redriven, the poison record fails again and comes back as a new dead letter: follow this one by its id.
    const letterId = await page.locator('[data-testid="dead-letter-table"] tbody tr').first().getAttribute('data-dead-letter-id');
    const row = page.locator(`tr[data-dead-letter-id="${letterId}"]`);
    expect(await row.innerText()).toContain('INVALID_EVENT');
    expect(await page.getByTestId('dlq-topic-amas.tasks').innerText()).toContain('1');
    await row.getByTestId('btn-redrive').click();
    await expect.poll(() => row.innerText()).toMatch(/redriven/);
    const { deadLetters } = (await embedded.get<{ deadLetters: { redrivenAt: string | null }[] }>('/v1/dead-letters?topic=amas.tasks')).body;
    expect(deadLetters.some((l) => l.redrivenAt !== null)).toBe(true);
  });

  it('raised no error in the page', () => {
    expect(pageErrors).toEqual([]);
  });
});
