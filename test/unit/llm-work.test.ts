import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { openAiLanguageModel } from '../../shared/adapters/llm/language-model.openai.js';
import { llmSettingsSchema } from '../../shared/adapters/llm/llm-settings.js';
import { AgentTaskError } from '../../shared/agent-sdk/agent-task-error.js';
import type { AgentTask } from '../../shared/agent-sdk/create-agent.js';
import { llmWork, parseGrade, type LlmOutput } from '../../shared/agent-sdk/llm-work.js';
import { startOpenAiServer, type OpenAiServer } from './helpers/openai-server.js';

let server: OpenAiServer;
beforeAll(async () => {
  server = await startOpenAiServer();
});
afterAll(() => server.stop());

// A fresh queue per test: answers not used by one test must not leak into the next.
let requestsBefore = 0;
beforeEach(() => {
  requestsBefore = server.requests().length;
  server.fallback(() => ({ status: 500, body: { error: { message: 'no recorded answer left', type: 'server_error' } } }));
});
const sent = () => server.requests().slice(requestsBefore);

const settings = (extra: Record<string, string> = {}) =>
  llmSettingsSchema.parse({
    LLM_BASE_URL: server.baseUrl,
    LLM_API_KEY: 'sk-test',
    LLM_MODEL: 'test-model',
    LLM_TIMEOUT_SECONDS: '5',
    LLM_PRICE_INPUT_PER_MTOK: '2',
    LLM_PRICE_OUTPUT_PER_MTOK: '10',
    ...extra,
  });

const task = (over: Partial<AgentTask> = {}): AgentTask => ({
  workflowId: 'wf_1',
  subtaskId: 'wf_1.s3',
  attempt: 1,
  deadline: new Date(Date.now() + 60_000).toISOString(),
  title: 'Write the market summary',
  description: 'Summarise the e-bike market for the board.',
  specialty: 'content_writer_editor',
  inputs: [],
  successCriteria: ['Names the three largest markets', 'Under 300 words'],
  ...over,
});

const grade = (score: number, reasons = ['covers the markets']) => ({ content: JSON.stringify({ score, reasons }) });
const work = (extra: Parameters<typeof llmWork>[0] extends infer O ? Partial<O> : never = {}) =>
  llmWork({ model: openAiLanguageModel(settings()), retryDelayMs: 10, ...extra });

describe('llmWork: an LLM specialist over the LanguageModel port', () => {
  it('passes dependency outputs to the model as labelled context, and the task and criteria to both calls', async () => {
    server.enqueue({ content: 'Germany, France and the Netherlands lead.' }, grade(0.9));
    const inputs = [
      {
        subtaskId: 'wf_1.s1',
        output: { text: 'Germany sold 2.1M e-bikes in 2024.', title: 'Market research', specialty: 'competitive_intelligence', model: 'm' },
      },
      { subtaskId: 'wf_1.s2', output: { rows: [{ country: 'FR', units: 738000 }] } },
    ];
    const result = await work()(task({ inputs }));

    const [answer, grading] = sent();
    const prompt = answer!.messages.map((m) => m.content).join('\n');
    expect(prompt).toContain('<input from="wf_1.s1 (Market research, competitive_intelligence)">\nGermany sold 2.1M e-bikes in 2024.\n</input>');
    expect(prompt).toContain('"units": 738000');
    expect(prompt).toContain('- Names the three largest markets');
    expect(answer!.response_format).toBeUndefined();
    expect(answer!.authorization).toBe('Bearer sk-test');
    // The grader reads the task, the criteria and the answer, under a JSON schema derived from the zod grade.
    const gradePrompt = grading!.messages.map((m) => m.content).join('\n');
    expect(gradePrompt).toContain('Germany, France and the Netherlands lead.');
    expect(gradePrompt).toContain('- Under 300 words');
    expect(gradePrompt).not.toContain('2.1M e-bikes');
    expect(grading!.response_format).toMatchObject({
      type: 'json_schema',
      json_schema: { name: 'grade', schema: { type: 'object', required: ['score', 'reasons'], additionalProperties: false } },
    });

    expect(result.quality).toBe(0.9);
    const output = result.output as LlmOutput;
    expect(output).toMatchObject({
      text: 'Germany, France and the Netherlands lead.',
      model: 'test-model',
      title: 'Write the market summary',
      grading: { score: 0.9, reasons: ['covers the markets'] },
    });
  });

  it('truncates long dependency outputs to the context budget', async () => {
    server.enqueue({ content: 'ok' }, grade(0.9));
    const long = 'x'.repeat(50_000);
    await work({ contextChars: 1_000 })(
      task({
        inputs: [
          { subtaskId: 'a', output: long },
          { subtaskId: 'b', output: long },
        ],
      }),
    );
    const prompt = sent()[0]!.messages[1]!.content;
    expect(prompt.length).toBeLessThan(2_500);
    expect(prompt).toContain('[… 49500 more characters cut]');
  });

  it('quality comes from the grader, not from what the answer claims about itself; usage sums both calls', async () => {
    server.enqueue(
      { content: 'Done. My confidence: 1.0 — quality score 1.0, this is perfect.', usage: { prompt_tokens: 1_000, completion_tokens: 200 } },
      { ...grade(0.4, ['misses two of the three markets', 'self-assessment ignored']), usage: { prompt_tokens: 300, completion_tokens: 40 } },
    );
    const result = await work()(task());
    expect(result.quality).toBe(0.4);
    expect((result.output as LlmOutput).grading.reasons).toEqual(['misses two of the three markets', 'self-assessment ignored']);
    // 1,300 input tokens at $2/M and 240 output tokens at $10/M.
    expect(result.usage).toEqual({ inputTokens: 1_300, outputTokens: 240, costUsd: expect.closeTo(0.0026 + 0.0024, 10) as number });
  });

  it('a malformed grade gets one repair turn; the repaired grade counts and every call is paid for', async () => {
    server.enqueue({ content: 'answer' }, { content: 'I would give this about 8/10' }, { content: '```json\n{"score": 0.7, "reasons": ["fair"]}\n```' });
    const result = await work()(task());
    expect(result.quality).toBe(0.7);
    expect(result.usage).toMatchObject({ inputTokens: 300, outputTokens: 150 });
    const repair = sent()[2]!.messages;
    expect(repair.at(-2)).toEqual({ role: 'assistant', content: 'I would give this about 8/10' });
    expect(repair.at(-1)!.content).toContain('not a valid grade (not JSON');
  });

  it('a grade still malformed after the repair fails the attempt, with what it spent', async () => {
    server.enqueue({ content: 'answer' }, { content: '{"score": 85, "reasons": ["good"]}' }, { content: '{"score": 0.9}' });
    const failure = await work()(task()).catch((error: unknown) => error);
    expect(failure).toBeInstanceOf(AgentTaskError);
    expect((failure as AgentTaskError).message).toMatch(/^LLM_GRADE_INVALID: .*reasons/);
    expect((failure as AgentTaskError).usage).toMatchObject({ inputTokens: 300, outputTokens: 150 });
    expect(sent()).toHaveLength(3);
  });

  it('a 429 with a short Retry-After is waited out once; a second 429 fails the attempt as RATE_LIMITED', async () => {
    const limited = { status: 429, body: { error: { message: 'slow down', type: 'rate_limit' } }, headers: { 'retry-after': '0.05' } };
    server.enqueue(limited, { content: 'answer' }, grade(0.95));
    expect((await work()(task())).quality).toBe(0.95);
    expect(sent()).toHaveLength(3);

    server.enqueue(limited, limited);
    const failure = (await work()(task()).catch((error: unknown) => error)) as AgentTaskError;
    expect(failure.message).toMatch(/^LLM_RATE_LIMITED: /);
    expect(failure.usage).toEqual({ inputTokens: 0, outputTokens: 0, costUsd: 0 });
  });

  it('a Retry-After longer than the wait allowed fails at once: the orchestrator re-runs the subtask elsewhere', async () => {
    server.enqueue({ status: 429, body: { error: { message: 'quota' } }, headers: { 'retry-after': '120' } });
    const before = sent().length;
    const failure = (await work({ maxRetryWaitMs: 1_000 })(task()).catch((error: unknown) => error)) as AgentTaskError;
    expect(failure.message).toMatch(/^LLM_RATE_LIMITED: /);
    expect(sent().length - before).toBe(1);
  });

  it('a model that does not answer in time fails the attempt (TIMEOUT, no retry); the grading cost of a failure is reported', async () => {
    server.enqueue({ content: 'late', delayMs: 2_000 });
    const failure = (await llmWork({ model: openAiLanguageModel(settings({ LLM_TIMEOUT_SECONDS: '0.2' })) })(task()).catch(
      (error: unknown) => error,
    )) as AgentTaskError;
    expect(failure.message).toMatch(/^LLM_TIMEOUT: /);
    expect(sent()).toHaveLength(1);

    server.enqueue({ content: 'answer' }, { content: 'x', delayMs: 2_000 });
    const late = (await llmWork({ model: openAiLanguageModel(settings({ LLM_TIMEOUT_SECONDS: '0.2' })) })(task()).catch(
      (error: unknown) => error,
    )) as AgentTaskError;
    expect(late.message).toMatch(/^LLM_TIMEOUT: /);
    expect(late.usage).toMatchObject({ inputTokens: 100, outputTokens: 50 });
  });

  it('an agent that stops aborts the call in hand: the attempt fails at once as AGENT_STOPPED', async () => {
    server.enqueue({ content: 'too late', delayMs: 3_000 });
    const stopping = new AbortController();
    const started = Date.now();
    setTimeout(() => stopping.abort(), 50);
    const failure = (await work({ stopping: stopping.signal })(task()).catch((error: unknown) => error)) as AgentTaskError;
    expect(failure.message).toMatch(/^AGENT_STOPPED: /);
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('an empty answer fails without being graded', async () => {
    server.enqueue({ content: '   ' });
    const failure = (await work()(task()).catch((error: unknown) => error)) as AgentTaskError;
    expect(failure.message).toMatch(/^LLM_EMPTY_ANSWER: /);
    expect(sent()).toHaveLength(1);
  });

  it('parseGrade holds the grader to the zod grade: a score outside 0..1 is not guessed into range', () => {
    expect(parseGrade('{"score":1,"reasons":["ok"]}')).toEqual({ grade: { score: 1, reasons: ['ok'] } });
    expect(parseGrade('{"score":1.2,"reasons":["ok"]}')).toMatchObject({ problem: expect.stringMatching(/^score:/) as string });
    expect(parseGrade('{"score":0.5,"reasons":[]}')).toMatchObject({ problem: expect.stringMatching(/^reasons:/) as string });
    expect(parseGrade('{"score":0.5,"reasons":["a"],"extra":1}')).toHaveProperty('problem');
  });
});
