import { configEntries } from '../../../shared/config.js';
import { exporterConfigured } from '../../../shared/observability/tracing/sdk.js';

/** The OpenTelemetry variables a deployment may set on our processes (shared/observability/tracing/sdk.ts and the SDK read them). */
export const otelVariables = ['OTEL_TRACES_EXPORTER', 'OTEL_EXPORTER_ZIPKIN_ENDPOINT', 'OTEL_EXPORTER_OTLP_ENDPOINT', 'OTEL_SERVICE_NAME'] as const;

/** A value the deployment tool fills in at deploy time (Serverless `${ssm:…}`), which cannot be checked offline. */
const deployTime = /^\$\{(ssm|param):.+\}$/;

/**
 * Why one process, with this effective environment (compose defaults and ConfigMaps already
 * resolved), would export no spans or export them unnamed; [] when it traces. Read as sdk.ts reads it.
 */
export function tracingProblems(env: Record<string, string | undefined>): string[] {
  const problems: string[] = [];
  if (!exporterConfigured(env)) problems.push('no trace exporter (OTEL_TRACES_EXPORTER or OTEL_EXPORTER_OTLP_ENDPOINT)');
  const exporters = (env.OTEL_TRACES_EXPORTER ?? '').split(',').map((e) => e.trim());
  const zipkin = env.OTEL_EXPORTER_ZIPKIN_ENDPOINT ?? '';
  if (exporters.includes('zipkin') && !/^https?:\/\/[^/\s]+\/api\/v2\/spans$/.test(zipkin) && !deployTime.test(zipkin))
    problems.push(`zipkin exporter without an OTEL_EXPORTER_ZIPKIN_ENDPOINT …/api/v2/spans (${zipkin || 'unset'})`);
  if (exporters.includes('otlp') && !env.OTEL_EXPORTER_OTLP_ENDPOINT && !env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)
    problems.push('otlp exporter without OTEL_EXPORTER_OTLP_ENDPOINT');
  if (!/^amas-[a-z-]+$/.test(env.OTEL_SERVICE_NAME ?? '')) problems.push(`OTEL_SERVICE_NAME is not amas-<part> (${env.OTEL_SERVICE_NAME ?? 'unset'})`);
  const rate = env.ORCHESTRATION_TRACE_SAMPLE_RATE;
  if (rate === undefined || !(Number(rate) >= 0 && Number(rate) <= 1)) problems.push(`ORCHESTRATION_TRACE_SAMPLE_RATE is not in [0, 1] (${rate ?? 'unset'})`);
  if ((env.ORCHESTRATION_ENABLE_TRACING ?? configEntries.ORCHESTRATION_ENABLE_TRACING.default) === 'false') problems.push('ORCHESTRATION_ENABLE_TRACING=false');
  return problems;
}
