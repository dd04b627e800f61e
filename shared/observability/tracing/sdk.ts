import type { Config } from '../../config.js';

/** The running OpenTelemetry SDK of this process: `stop()` flushes the spans not yet exported. */
export interface Tracing {
  stop(): Promise<void>;
}

type Env = Record<string, string | undefined>;

const listed = (value: string | undefined): string[] =>
  (value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '' && s !== 'null');

/**
 * Whether the standard variables name somewhere to send spans: OTEL_TRACES_EXPORTER (zipkin, otlp,
 * console; `none` turns it off), or an OTLP endpoint (the SDK's default exporter). Without one the
 * SDK is not even loaded, so tracing costs next to nothing.
 */
export function exporterConfigured(env: Env = process.env): boolean {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return false;
  const exporters = listed(env.OTEL_TRACES_EXPORTER);
  if (exporters.includes('none')) return false;
  return exporters.length > 0 || Boolean(env.OTEL_EXPORTER_OTLP_ENDPOINT || env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT);
}

/**
 * Starts the OpenTelemetry Node SDK for this process when an exporter is configured (and
 * ORCHESTRATION_ENABLE_TRACING is on), else returns null. Spans only: the SDK's metrics and logs
 * stay off (Prometheus serves metrics, pino writes logs). The exporter and its endpoint come from
 * the standard OTEL_* variables; the sampler is parent-based with ORCHESTRATION_TRACE_SAMPLE_RATE
 * at the root (the API), so a workflow is traced in every process or in none, unless
 * OTEL_TRACES_SAMPLER says otherwise. The service name is OTEL_SERVICE_NAME, else `serviceName`.
 */
export async function startTracing(
  serviceName: string,
  config: Pick<Config, 'ORCHESTRATION_ENABLE_TRACING' | 'ORCHESTRATION_TRACE_SAMPLE_RATE'>,
  env: Env = process.env,
): Promise<Tracing | null> {
  if (!config.ORCHESTRATION_ENABLE_TRACING || !exporterConfigured(env)) return null;
  const [{ NodeSDK }, { ParentBasedSampler, TraceIdRatioBasedSampler }] = await Promise.all([
    import('@opentelemetry/sdk-node'),
    import('@opentelemetry/sdk-trace-base'),
  ]);
  const sampler = env.OTEL_TRACES_SAMPLER
    ? {}
    : { sampler: new ParentBasedSampler({ root: new TraceIdRatioBasedSampler(config.ORCHESTRATION_TRACE_SAMPLE_RATE) }) };
  const sdk = new NodeSDK({ serviceName: env.OTEL_SERVICE_NAME || serviceName, ...sampler, metricReaders: [], logRecordProcessors: [], instrumentations: [] });
  sdk.start();
  return { stop: () => sdk.shutdown() };
}

/** Exports the spans still buffered (a Lambda is frozen between invocations: flush before it returns). */
export async function flushTraces(): Promise<void> {
  const { trace } = await import('@opentelemetry/api');
  const delegate = (trace.getTracerProvider() as { getDelegate?: () => unknown }).getDelegate?.() as { forceFlush?: () => Promise<void> } | undefined;
  await delegate?.forceFlush?.();
}
