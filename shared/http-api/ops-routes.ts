import { Router } from 'express';
import { functionSubscriptions, type ConsumerName } from '../events/index.js';
import type { Runtime } from '../runtime/runtime.js';

export interface OpsOptions {
  /** Which consumer groups' backlog counts for readiness and the queue-depth gauge (default: all four). */
  functions?: readonly ConsumerName[];
  /** Extra readiness checks, e.g. the communication bus backlog. */
  extraChecks?: () => Promise<Record<string, { ok: boolean; detail?: string }>>;
  name?: string;
  /**
   * Whether a backlog at ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL turns readiness red (default: yes,
   * the API sheds submissions). A function consumer passes false: NotReady would not lower its lag,
   * and a Service without endpoints cannot be the reason it drains.
   */
  backlogGatesReadiness?: boolean;
}

/** `/health/orchestration`, `/ready/orchestration` and `/metrics`, alike for the API and every function process. */
export function createOpsRoutes(runtime: Runtime, options: OpsOptions = {}): Router {
  const { ports, metrics, bus } = runtime;
  const { store, config } = ports;
  const groups = (options.functions ?? (Object.keys(functionSubscriptions) as ConsumerName[])).map((fn) => functionSubscriptions[fn]);
  const router = Router();

  router.get('/health/orchestration', (_req, res) => {
    res.json({ status: 'healthy', ...(options.name ? { process: options.name } : {}), uptimeSeconds: Math.round(process.uptime()) });
  });

  router.get('/ready/orchestration', async (_req, res) => {
    const checks: Record<string, { ok: boolean; detail?: string }> = {};
    checks.workflowStore = await probe(() => store.countActiveWorkflows());
    let backlog = 0;
    checks.eventBus = await probe(async () => {
      for (const { topic, groupId } of groups) backlog += await bus.lag(groupId, topic);
    });
    if (checks.eventBus.ok) {
      const critical = backlog >= config.ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL;
      const gates = options.backlogGatesReadiness ?? true;
      checks.eventBus = {
        ok: !(critical && gates),
        detail: `backlog ${backlog}${critical ? ' at or above ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL' : ''}${critical && !gates ? ' (a consumer stays ready to drain it)' : ''}`,
      };
    }
    for (const check of runtime.healthChecks) {
      const health = await check.health();
      checks[health.dependency] = { ok: health.ok, detail: `circuit ${health.circuit}${health.error ? `: ${health.error}` : ''}` };
    }
    Object.assign(checks, await options.extraChecks?.());
    const ready = Object.values(checks).every((c) => c.ok);
    res.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not_ready', checks });
  });

  router.get('/metrics', async (_req, res) => {
    if (!config.ORCHESTRATION_ENABLE_METRICS) {
      res.status(404).json({ error: 'metrics_disabled' });
      return;
    }
    // A failed refresh keeps the last known values rather than failing the scrape.
    await probe(async () => {
      metrics.activeWorkflows.set(await store.countActiveWorkflows());
      const status = await ports.directory.hierarchyStatus(ports.clock.now(), config.ORCHESTRATION_HEARTBEAT_INTERVAL * 3000);
      metrics.activeAgents.set(status.health.healthy + status.health.degraded);
      for (const { topic, groupId } of groups) metrics.queueDepth.set({ topic, group: groupId }, await bus.lag(groupId, topic));
    });
    res.setHeader('Content-Type', metrics.registry.contentType);
    res.send(await metrics.registry.metrics());
  });
  return router;
}

const probeTimeoutMs = 3_000;

async function probe(work: () => Promise<unknown>): Promise<{ ok: boolean; detail?: string }> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${probeTimeoutMs} ms`)), probeTimeoutMs);
  });
  try {
    await Promise.race([work(), timeout]);
    return { ok: true };
  } catch (error) {
    return { ok: false, detail: error instanceof Error ? error.message : String(error) };
  } finally {
    clearTimeout(timer);
  }
}
