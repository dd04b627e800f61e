import { Counter, Gauge, type Registry } from 'prom-client';
import type { Logger } from '../observability/logger.js';

export type BacklogLevel = 'ok' | 'warning' | 'critical';

export interface CommunicationMetrics {
  totalSent: number;
  delivered: number;
  failed: number;
  /** delivered / (delivered + failed); 1 before anything was attempted. */
  successRate: number;
  /** Local recipients with an inbox. */
  activeChannels: number;
  /** Messages waiting in the local priority buffers. */
  queueSize: number;
  /** Queued plus being handled. */
  pendingDeliveries: number;
  pendingRequests: number;
  broadcastTopics: string[];
  latencyMs: { average: number; p50: number; p99: number; samples: number };
  backlog: Record<string, number>;
  backlogLevel: BacklogLevel;
  failures: Record<string, number>;
}

export interface MetricsRecorderOptions {
  warning: number;
  critical: number;
  logger: Logger;
  registry?: Registry;
  /** Latencies kept for the percentiles (a sliding window). */
  window?: number;
}

const levelOf = (backlog: number, warning: number, critical: number): BacklogLevel =>
  backlog >= critical ? 'critical' : backlog >= warning ? 'warning' : 'ok';

/** Reuses a metric already in the registry, so two buses of one process can share it. */
function metric<M>(registry: Registry | undefined, name: string, make: (registers: Registry[]) => M): M | undefined {
  if (!registry) return undefined;
  return (registry.getSingleMetric(name) as M | undefined) ?? make([registry]);
}

export function createMetricsRecorder(options: MetricsRecorderOptions) {
  const { warning, critical, logger, registry } = options;
  const window = options.window ?? 4096;
  const latencies: number[] = [];
  let cursor = 0;
  let sum = 0;
  let count = 0;
  let sent = 0;
  let delivered = 0;
  let failed = 0;
  const failures: Record<string, number> = {};
  const backlog = new Map<string, number>();
  const levels = new Map<string, BacklogLevel>();
  const backlogGauge = metric(
    registry,
    'orchestration_message_backlog',
    (registers) => new Gauge({ name: 'orchestration_message_backlog', help: 'Agent messages queued per recipient', labelNames: ['recipient'], registers }),
  );
  const results = metric(
    registry,
    'orchestration_agent_messages_total',
    (registers) =>
      new Counter({
        name: 'orchestration_agent_messages_total',
        help: 'Agent messages by result (sent, delivered, failed)',
        labelNames: ['result'],
        registers,
      }),
  );

  const level = (): BacklogLevel => levelOf(Math.max(0, ...backlog.values()), warning, critical);
  const percentile = (sorted: number[], p: number): number =>
    sorted.length === 0 ? 0 : sorted[Math.min(sorted.length - 1, Math.ceil(p * sorted.length) - 1)]!;

  return {
    sent(n = 1): void {
      sent += n;
      results?.inc({ result: 'sent' }, n);
    },
    delivered(latencyMs: number): void {
      delivered += 1;
      sum += latencyMs;
      count += 1;
      if (latencies.length < window) latencies.push(latencyMs);
      else latencies[cursor++ % window] = latencyMs;
      results?.inc({ result: 'delivered' });
    },
    /** A delivery that failed (counted in the success rate), by reason. */
    failed(reason: string): void {
      failed += 1;
      failures[reason] = (failures[reason] ?? 0) + 1;
      results?.inc({ result: 'failed' });
    },
    /** A request nobody answered: not a failed delivery, but counted by reason. */
    unanswered(): void {
      failures.request_timeout = (failures.request_timeout ?? 0) + 1;
      results?.inc({ result: 'request_timeout' });
    },
    /** Records a recipient's backlog; crossing a threshold upwards logs once per crossing. */
    backlog(recipient: string, size: number): void {
      backlog.set(recipient, size);
      backlogGauge?.set({ recipient }, size);
      const before = levels.get(recipient) ?? 'ok';
      const now = levelOf(size, warning, critical);
      if (now === before) return;
      levels.set(recipient, now);
      if (now === 'critical') logger.error('message backlog critical', { recipient, backlog: size, threshold: critical });
      else if (now === 'warning' && before === 'ok') logger.warn('message backlog warning', { recipient, backlog: size, threshold: warning });
      else logger.info('message backlog eased', { recipient, backlog: size, level: now });
    },
    /** The readiness signal: the worst recipient's level. */
    level,
    snapshot(
      live: Pick<CommunicationMetrics, 'activeChannels' | 'queueSize' | 'pendingDeliveries' | 'pendingRequests' | 'broadcastTopics'>,
    ): CommunicationMetrics {
      const sorted = [...latencies].sort((a, b) => a - b);
      const attempted = delivered + failed;
      return {
        totalSent: sent,
        delivered,
        failed,
        successRate: attempted === 0 ? 1 : delivered / attempted,
        ...live,
        latencyMs: { average: count === 0 ? 0 : sum / count, p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), samples: count },
        backlog: Object.fromEntries(backlog),
        backlogLevel: level(),
        failures: { ...failures },
      };
    },
  };
}
export type MetricsRecorder = ReturnType<typeof createMetricsRecorder>;
