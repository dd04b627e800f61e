import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSqlApiKeyStore } from '../../shared/adapters/sql/api-keys.sql.js';
import { runMigrations } from '../../shared/adapters/sql/migrations.js';
import { createPgliteClient } from '../../shared/adapters/sql/sql-client.pglite.js';
import type { SqlClient } from '../../shared/adapters/sql/sql-client.js';
import type { LlmOutput } from '../../shared/agent-sdk/llm-work.js';
import type { WorkflowUsageView } from '../../shared/api/usage.js';
import { loadInfra } from '../../shared/env.js';
import { addUsage, noUsage } from '../../shared/domain/usage.js';
import { topics, type EventOf, type OrchestrationEvent } from '../../shared/events/index.js';
import { apiAuthFromInfra } from '../../shared/http-api/auth/from-infra.js';
import { runCli, type CliIo } from '../../shared/runtime/cli.js';
import { parseEvent } from '../../shared/engine/process-event.js';
import { startEmbedded, type Embedded } from './helpers/embedded.js';
import { startOpenAiServer, type OpenAiServer, type ReceivedRequest } from './helpers/openai-server.js';

const adminKey = 'test-admin-key-llm-agents-0123456789';
const agentId = 'llm-1';

let keysDb: SqlClient;
let api: Embedded;
let model: OpenAiServer;
let agent: ChildProcess | undefined;
let agentLog = '';

beforeAll(async () => {
  model = await startOpenAiServer();
  keysDb = await createPgliteClient();
  await runMigrations(keysDb);
  const auth = apiAuthFromInfra(loadInfra({ AMAS_AUTH: 'keys', AMAS_ADMIN_KEY: adminKey, AMAS_RATE_LIMIT_PER_SECOND: '0' }), {
    keys: createSqlApiKeyStore(keysDb),
  });
  // No demo specialists and pools of one: every subtask can only go to the LLM agent (no demo spawns).
  api = await startEmbedded(
    { ORCHESTRATION_DEMO_AGENTS_PER_SPECIALTY: '0', ORCHESTRATION_MAX_AGENTS_PER_POOL: '1', ORCHESTRATION_HEARTBEAT_INTERVAL: '1' },
    { auth },
  );
}, 60_000);

afterAll(async () => {
  if (agent && agent.exitCode === null) agent.kill('SIGKILL');
  await api?.stop();
  await keysDb?.close();
  await model?.stop();
});

const userPrompt = (r: ReceivedRequest) => r.messages.find((m) => m.role === 'user')?.content ?? '';
const titleOf = (r: ReceivedRequest) => /^Task: (.*)$/m.exec(userPrompt(r))?.[1] ?? '?';
const isGrading = (r: ReceivedRequest) => r.response_format?.type === 'json_schema';

async function agentKey(id: string): Promise<string> {
  let out = '';
  let err = '';
  const io: CliIo = { out: (t) => void (out += t), err: (t) => void (err += t), env: { AMAS_URL: api.baseUrl, AMAS_TOKEN: adminKey } };
  expect(await runCli(['keys', 'create', '--role', 'agent', '--tenant', '*', '--agent-id', id, '--json'], io), err).toBe(0);
  return (JSON.parse(out) as { key: string }).key;
}

function exited(child: ChildProcess, timeoutMs: number): Promise<number | null> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the agent did not exit within ${timeoutMs} ms:\n${agentLog}`)), timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      resolve(code);
    });
  });
}

describe('an LLM specialist agent process over HTTP (npm run agent:llm, AMAS_AUTH=keys)', () => {
  it('refuses bad settings with one message naming the variable, exit 2', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'shared/runtime/main-llm-agent.ts'], {
      env: { PATH: process.env.PATH, LLM_BASE_URL: model.baseUrl, LLM_MODEL: 'm', AGENT_ID: 'x', AGENT_SPECIALTIES: 'data_analyst,poet' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr!.on('data', (chunk: Buffer) => void (stderr += chunk.toString()));
    expect(await exited(child, 20_000)).toBe(2);
    expect(stderr.trim().split('\n')).toHaveLength(1);
    expect(stderr).toMatch(/^AGENT_SPECIALTIES="data_analyst,poet" is invalid: unknown "poet"/);
  });

  it('answers a workflow through the model with dependency outputs as context, quality from the grader, usage on every result', async () => {
    // The scripted model: answers name their task; the grader gives 0.96 (above every phase gate), except that the first
    // task's first two grades are malformed, so that attempt fails and is re-run.
    let unlucky: string | undefined;
    let unluckyGrades = 0;
    model.fallback((request) => {
      const title = titleOf(request);
      if (!isGrading(request)) {
        unlucky ??= title;
        return { content: `RESULT OF "${title}". Confidence 1.0.` };
      }
      if (title === unlucky && unluckyGrades++ < 2) return { content: 'looks fine to me' };
      return { content: JSON.stringify({ score: 0.96, reasons: ['meets the criteria'] }) };
    });

    const key = await agentKey(agentId);
    agent = spawn(process.execPath, ['--import', 'tsx', 'shared/runtime/main-llm-agent.ts'], {
      env: {
        ...process.env,
        AMAS_URL: api.baseUrl,
        AMAS_AGENT_KEY: key,
        AGENT_ID: agentId,
        AGENT_SPECIALTIES: '*',
        AGENT_CAPACITY: '4',
        LLM_BASE_URL: model.baseUrl,
        LLM_API_KEY: 'sk-local',
        LLM_MODEL: 'scripted-model',
        LLM_PRICE_INPUT_PER_MTOK: '2',
        LLM_PRICE_OUTPUT_PER_MTOK: '10',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    agent.stdout!.on('data', (chunk: Buffer) => void (agentLog += chunk.toString()));
    agent.stderr!.on('data', (chunk: Buffer) => void (agentLog += chunk.toString()));
    // Submit only once it is registered: an empty pool would get a demo agent spawned into it.
    for (const until = Date.now() + 20_000; !agentLog.includes('llm agent running');) {
      if (Date.now() > until || agent.exitCode !== null) throw new Error(`the agent did not start:\n${agentLog}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }

    const response = await fetch(`${api.baseUrl}/v1/tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${adminKey}`, 'content-type': 'application/json' },
      body: JSON.stringify({ description: 'Research the market for electric bikes, analyse the data and write a report' }),
    });
    expect(response.status).toBe(202);
    const { workflowId } = (await response.json()) as { workflowId: string };
    const workflow = await api.settle(workflowId, 60_000).catch((error: unknown) => {
      throw new Error(`${String(error)}\nagent log:\n${agentLog}`);
    });
    expect(workflow.status, agentLog).toBe('completed');

    const subtasks = await api.runtime.ports.store.getSubtasks(workflowId);
    const byId = new Map(subtasks.map((s) => [s.id, s]));
    for (const s of subtasks) {
      expect(s.assignedAgent).toBe(agentId);
      // The answer claims confidence 1.0; the quality is the grader's.
      expect(s.quality).toBe(0.96);
      expect(s.output).toMatchObject({
        text: `RESULT OF "${s.title}". Confidence 1.0.`,
        model: 'scripted-model',
        title: s.title,
        specialty: s.specialty,
        grading: { score: 0.96, reasons: ['meets the criteria'], model: 'scripted-model' },
      } satisfies LlmOutput);
    }

    // Every dependent's prompt carried its dependencies' answers, labelled, and its own success criteria.
    const answers = model.requests().filter((r) => !isGrading(r));
    const dependent = subtasks.find((s) => s.dependsOn.length > 0);
    expect(dependent, 'the plan has a subtask with dependencies').toBeDefined();
    for (const s of subtasks.filter((x) => x.dependsOn.length > 0)) {
      const prompt = userPrompt(answers.find((r) => titleOf(r) === s.title)!);
      for (const dep of s.dependsOn)
        expect(prompt).toContain(`<input from="${dep} (${byId.get(dep)!.title}, ${byId.get(dep)!.specialty})">\nRESULT OF "${byId.get(dep)!.title}"`);
      for (const criterion of s.successCriteria) expect(prompt).toContain(`- ${criterion}`);
    }

    // The unlucky subtask's first attempt failed on the grader and was re-run.
    const rerun = subtasks.find((s) => s.title === unlucky)!;
    expect(rerun.attempts).toBe(2);

    // Usage arrives with each result: 100 + 50 tokens a call, at $2 / $10 per million.
    const isResult = (e: OrchestrationEvent): e is EventOf<'subtask.completed'> | EventOf<'subtask.failed'> =>
      e.type === 'subtask.completed' || e.type === 'subtask.failed';
    const results = (await api.bus.read(topics.subtaskResults))
      .map((d) => parseEvent(d.value))
      .filter(isResult)
      .filter((e) => e.data.workflowId === workflowId);
    const failed = results.filter((e) => e.type === 'subtask.failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]!.data).toMatchObject({
      subtaskId: rerun.id,
      cause: 'agent_error',
      reason: expect.stringMatching(/^LLM_GRADE_INVALID: /) as string,
      usage: { inputTokens: 300, outputTokens: 150 },
    });
    const completed = results.filter((e) => e.type === 'subtask.completed');
    expect(completed).toHaveLength(subtasks.length);
    for (const e of completed) expect(e.data.usage).toEqual({ inputTokens: 200, outputTokens: 100, costUsd: expect.closeTo(0.0014, 10) as number });
    const spent = results.reduce((sum, e) => addUsage(sum, e.data.usage ?? noUsage()), noUsage());
    expect(spent.inputTokens).toBe(200 * subtasks.length + 300);
    // … and is added up on the workflow, failed attempts included (no model planned it: the plan cost nothing).
    const view = await fetch(`${api.baseUrl}/v1/workflows/${workflowId}`, { headers: { authorization: `Bearer ${adminKey}` } });
    const { usage } = (await view.json()) as { usage: WorkflowUsageView };
    expect(usage).toMatchObject({ inputTokens: spent.inputTokens, outputTokens: spent.outputTokens, costUsd: expect.closeTo(spent.costUsd, 10) as number });

    // SIGTERM: stops polling, finishes what it holds, exits 0.
    agent.kill('SIGTERM');
    expect(await exited(agent, 15_000), agentLog).toBe(0);
    expect(agentLog).toContain('"message":"stopped"');
  }, 90_000);
});
