import type { AgentWorkItem, RegisterAgentRequest } from '../api/agents.js';
import { agentHeartbeatResponseSchema, agentWorkResponseSchema } from '../api/agents.js';
import { silentLogger, type Logger } from '../observability/logger.js';
import type { AgentResult, AgentTask } from './create-agent.js';
import { usageField, usageOfFailure } from './agent-task-error.js';

export interface HttpAgentOptions extends Omit<RegisterAgentRequest, 'agentId'> {
  /** The API's base URL, e.g. https://amas.example.com */
  url: string;
  /** The agent's own credential: an API key made with `amas keys create --role agent --agent-id <id>`, or an OIDC token. */
  token: string | (() => string | Promise<string>);
  agentId: string;
  handle: (task: AgentTask) => Promise<AgentResult>;
  /** How long one work request waits on the server for work (long poll); default 20 s. */
  pollWaitMs?: number;
  /** Health reports; default: the interval the API announces at registration (ORCHESTRATION_HEARTBEAT_INTERVAL). */
  heartbeatIntervalMs?: number;
  /** Lease renewals of the work in hand; default: the cadence the API announces (a third of ORCHESTRATION_LEASE_TTL_SECONDS). */
  leaseRenewalMs?: number;
  logger?: Logger;
}

export interface HttpAgent {
  readonly id: string;
  heartbeat(): Promise<void>;
  /** Renews the leases of the work in hand (POST /v1/agents/:id/leases); nothing to do when idle. */
  renewLeases(): Promise<void>;
  /** Stops polling, finishes and reports the work in hand. */
  stop(): Promise<void>;
}

export class HttpAgentError extends Error {
  constructor(
    readonly status: number,
    readonly body: unknown,
    what: string,
  ) {
    super(`${what} answered ${status}: ${JSON.stringify(body)}`);
  }
}

const keyOf = (w: AgentWorkItem) => `${w.subtaskId}#${w.attempt}#${w.leaseToken}`;
const reasonOf = (error: unknown): string => (error instanceof Error ? error.message : String(error)) || 'agent error';

/**
 * An agent that needs only the API and its own credential (no Kafka, Neo4j or Redis): registers,
 * heartbeats the leases of its work in hand, long-polls its dispatched work, runs `handle` and
 * reports with the fencing token the work came with.
 */
export async function createHttpAgent(options: HttpAgentOptions): Promise<HttpAgent> {
  const { agentId: id, handle, url, token, pollWaitMs = 20_000, logger = silentLogger } = options;
  const base = url.replace(/\/+$/, '');
  const agentPath = `/v1/agents/${encodeURIComponent(id)}`;
  const polling = new AbortController();
  const inFlight = new Map<string, { item: AgentWorkItem; job: Promise<void> }>();
  const seen = new Set<string>();
  let stopping = false;

  async function call(method: 'GET' | 'POST', path: string, body?: unknown, signal?: AbortSignal): Promise<unknown> {
    const bearer = typeof token === 'function' ? await token() : token;
    const headers: Record<string, string> = { authorization: `Bearer ${bearer}` };
    if (body !== undefined) headers['content-type'] = 'application/json';
    const response = await fetch(`${base}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: signal ?? null });
    const text = await response.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {
      // a proxy's HTML error page: keep the text
    }
    if (!response.ok) throw new HttpAgentError(response.status, parsed, `${method} ${path}`);
    return parsed;
  }

  const { agentId: _omit, handle: _h, url: _u, token: _t, pollWaitMs: _p, heartbeatIntervalMs: _i, leaseRenewalMs: _r, logger: _l, ...registration } = options;
  const register = async () =>
    (await call('POST', '/v1/agents/register', { agentId: id, ...registration })) as { heartbeatIntervalSeconds: number; leaseRenewalSeconds?: number };

  const workingLeases = () => [...inFlight.values()].map(({ item }) => ({ subtaskId: item.subtaskId, leaseToken: item.leaseToken }));
  const warnLost = (lost: string[]) => {
    if (lost.length > 0) logger.warn('leases lost: their reports will be refused', { agentId: id, subtaskIds: lost });
  };

  /** Renewal alone: no directory write and no event on the server, so it can run every few seconds. */
  async function renewLeases(): Promise<void> {
    const working = workingLeases();
    if (working.length === 0) return;
    warnLost(agentHeartbeatResponseSchema.parse(await call('POST', `${agentPath}/leases`, { working })).lost);
  }

  async function heartbeat(): Promise<void> {
    try {
      warnLost(agentHeartbeatResponseSchema.parse(await call('POST', `${agentPath}/heartbeat`, { working: workingLeases() })).lost);
    } catch (error) {
      // The directory forgot us (its store restarted): join again.
      if (error instanceof HttpAgentError && error.status === 404) await register();
      else throw error;
    }
  }

  async function report(item: AgentWorkItem, outcome: { result: AgentResult } | { error: unknown }, startedAt: number): Promise<void> {
    const fenced = { subtaskId: item.subtaskId, attempt: item.attempt, leaseToken: item.leaseToken };
    const body =
      'result' in outcome
        ? {
            status: 'completed',
            ...fenced,
            quality: outcome.result.quality,
            output: outcome.result.output,
            durationMs: Date.now() - startedAt,
            ...usageField(outcome.result.usage),
          }
        : { status: 'failed', ...fenced, reason: reasonOf(outcome.error).slice(0, 2_000), ...usageField(usageOfFailure(outcome.error)) };
    try {
      await call('POST', `${agentPath}/results`, body);
    } catch (error) {
      // 409: superseded (another attempt owns the subtask now); nothing to retry.
      if (error instanceof HttpAgentError && error.status === 409) return logger.info('stale report refused', { agentId: id, subtaskId: item.subtaskId });
      throw error;
    }
  }

  async function work(item: AgentWorkItem): Promise<void> {
    if (Date.parse(item.deadline) <= Date.now()) return logger.debug('work past its deadline skipped', { agentId: id, subtaskId: item.subtaskId });
    const startedAt = Date.now();
    let outcome: { result: AgentResult } | { error: unknown };
    try {
      const result = await handle({ ...item.task, workflowId: item.workflowId, subtaskId: item.subtaskId, attempt: item.attempt, deadline: item.deadline });
      outcome =
        Number.isFinite(result.quality) && result.quality >= 0 && result.quality <= 1
          ? { result }
          : { error: new Error(`quality ${result.quality} is not within 0..1`) };
    } catch (error) {
      outcome = { error };
    }
    await report(item, outcome, startedAt);
  }

  function take(items: AgentWorkItem[]): void {
    const current = new Set(items.map(keyOf));
    // Forget what the server no longer lists (reported and completed): the set stays small.
    for (const key of seen) if (!current.has(key) && !inFlight.has(key)) seen.delete(key);
    for (const item of items) {
      const key = keyOf(item);
      if (seen.has(key) || stopping) continue;
      seen.add(key);
      const job = work(item)
        .catch((error: unknown) => logger.error('agent could not report a result', { agentId: id, subtaskId: item.subtaskId, error: reasonOf(error) }))
        .finally(() => inFlight.delete(key));
      inFlight.set(key, { item, job });
    }
  }

  async function poll(): Promise<void> {
    while (!stopping) {
      try {
        const answer = agentWorkResponseSchema.parse(await call('GET', `${agentPath}/work?waitMs=${pollWaitMs}`, undefined, polling.signal));
        take(answer.work);
        // The server answers at once while work is listed: wait a little before asking again.
        if (answer.work.length > 0) await sleep(Math.min(250, pollWaitMs), polling.signal);
      } catch (error) {
        if (stopping) return;
        logger.warn('work poll failed', { agentId: id, error: reasonOf(error) });
        await sleep(1_000, polling.signal);
      }
    }
  }

  const registered = await register();
  const intervalMs = options.heartbeatIntervalMs ?? registered.heartbeatIntervalSeconds * 1000;
  // Calls the timers started are kept so stop() can wait for them: nothing reaches the server after stop() resolves.
  const timerCalls = new Set<Promise<void>>();
  const track = (call: Promise<void>, what: string) => {
    const tracked = call
      .catch((error: unknown) => logger.warn(`${what} failed`, { agentId: id, error: reasonOf(error) }))
      .finally(() => timerCalls.delete(tracked));
    timerCalls.add(tracked);
  };
  const timer = setInterval(() => track(heartbeat(), 'heartbeat'), intervalMs);
  timer.unref();
  // An API that announces no renewal cadence (older versions) renews leases with the heartbeat only.
  const renewalMs = options.leaseRenewalMs ?? (registered.leaseRenewalSeconds === undefined ? undefined : registered.leaseRenewalSeconds * 1000);
  const renewal = renewalMs === undefined ? undefined : setInterval(() => track(renewLeases(), 'lease renewal'), renewalMs);
  renewal?.unref();
  const polled = poll();

  return {
    id,
    heartbeat,
    renewLeases,
    async stop() {
      if (stopping) return;
      stopping = true;
      polling.abort();
      await polled;
      await Promise.allSettled([...inFlight.values()].map(({ job }) => job));
      clearInterval(timer);
      clearInterval(renewal);
      await Promise.allSettled([...timerCalls]);
    },
  };
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
