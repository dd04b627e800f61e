import { NodeSDK } from '@opentelemetry/sdk-node';
import { InMemorySpanExporter, SimpleSpanProcessor, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultConfig } from '../../config.js';
import { startEmbedded, type Embedded } from '../../../test/unit/helpers/embedded.js';
import { createLogger } from '../logger.js';
import { exporterConfigured, startTracing } from './sdk.js';
import { inEventSpan, inSpan } from './spans.js';
import { stampTrace, traceIdOf } from './propagation.js';

const parentEvent = { id: 'e1', type: 'subtask.dispatched', traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' };

describe('when tracing starts', () => {
  it('needs an exporter from the standard variables', () => {
    expect(exporterConfigured({})).toBe(false);
    expect(exporterConfigured({ OTEL_TRACES_EXPORTER: 'none' })).toBe(false);
    expect(exporterConfigured({ OTEL_TRACES_EXPORTER: 'zipkin' })).toBe(true);
    expect(exporterConfigured({ OTEL_TRACES_EXPORTER: 'zipkin', OTEL_SDK_DISABLED: 'true' })).toBe(false);
    expect(exporterConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' })).toBe(true);
  });

  it('starts nothing without one, or with ORCHESTRATION_ENABLE_TRACING off', async () => {
    expect(await startTracing('amas-test', defaultConfig(), {})).toBeNull();
    expect(await startTracing('amas-test', defaultConfig({ ORCHESTRATION_ENABLE_TRACING: false }), { OTEL_TRACES_EXPORTER: 'zipkin' })).toBeNull();
  });

  it('leaves events as their cause made them outside any span', () => {
    expect(stampTrace(parentEvent)).toBe(parentEvent);
    expect(traceIdOf(parentEvent.traceparent)).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(traceIdOf('00-00000000000000000000000000000000-b7ad6b7169203331-01')).toBeUndefined();
  });
});

describe('with the SDK running', () => {
  const exporter = new InMemorySpanExporter();
  const sdk = new NodeSDK({
    serviceName: 'amas-unit',
    spanProcessors: [new SimpleSpanProcessor(exporter)],
    metricReaders: [],
    logRecordProcessors: [],
    instrumentations: [],
    autoDetectResources: false,
  });
  let embedded: Embedded;
  beforeAll(async () => {
    sdk.start();
    embedded = await startEmbedded({ ORCHESTRATION_DEMO_AGENT_DELAY_MS: '5' });
  }, 60_000);
  afterAll(async () => {
    await embedded?.stop();
    await sdk.shutdown();
  });

  it('continues the producer trace in a child span, stamps produced events with it and logs its ids', async () => {
    const lines: string[] = [];
    const logger = createLogger('INFO', 'test', (line) => lines.push(line));
    const stamped = await inEventSpan('agent work', parentEvent, {}, async (span) => {
      logger.info('inside');
      return { span: span.spanContext(), event: stampTrace({ id: 'e2', traceparent: parentEvent.traceparent }) };
    });
    logger.info('outside');
    expect(stamped.span.traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(stamped.event.traceparent).toBe(`00-${stamped.span.traceId}-${stamped.span.spanId}-01`);
    const [inside, outside] = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(inside).toMatchObject({ message: 'inside', trace_id: stamped.span.traceId, span_id: stamped.span.spanId });
    expect(outside).not.toHaveProperty('trace_id');
    const finished = exporter.getFinishedSpans().find((s) => s.spanContext().spanId === stamped.span.spanId);
    expect(finished?.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
  });

  it('marks a span failed when its work throws, and makes no child span outside a recording one', async () => {
    await expect(inEventSpan('doomed', parentEvent, {}, () => inSpan('step', () => Promise.reject(new Error('boom'))))).rejects.toThrow('boom');
    const doomed = exporter.getFinishedSpans().filter((s) => s.name === 'doomed' || s.name === 'step');
    expect(doomed.map((s) => [s.name, s.status.code])).toEqual([
      ['step', 2],
      ['doomed', 2],
    ]);
    const before = exporter.getFinishedSpans().length;
    await inSpan('orphan', async () => undefined);
    expect(exporter.getFinishedSpans()).toHaveLength(before);
  });

  it('makes one workflow one trace: request → decompose → assign → dispatch → agent → complete', async () => {
    const submitted = await embedded.post<{ workflowId: string; traceId: string }>('/v1/tasks', {
      description: 'Research AI market trends and create presentation',
    });
    expect(submitted.status).toBe(202);
    const { workflowId, traceId } = submitted.body;
    expect(traceId).toMatch(/^[0-9a-f]{32}$/);
    expect((await embedded.settle(workflowId)).status).toBe('completed');

    const spans = exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const roots = spans.filter((s) => !s.parentSpanContext);
    expect(roots.map((s) => s.name)).toEqual(['POST /v1/tasks']);
    expect(spans.filter((s) => s.parentSpanContext && !byId.has(s.parentSpanContext.spanId)).map((s) => s.name)).toEqual([]);
    const chainOf = (span: ReadableSpan): string[] => {
      const names: string[] = [];
      for (let at: ReadableSpan | undefined = span; at; at = at.parentSpanContext ? byId.get(at.parentSpanContext.spanId) : undefined) names.unshift(at.name);
      return names;
    };
    const chains = spans.filter((s) => s.name === 'complete process').map(chainOf);
    expect(chains).toContainEqual(['POST /v1/tasks', 'decompose process', 'assign process', 'dispatch process', 'agent work', 'complete process']);
    for (const step of ['handler', 'commit', 'publish']) expect(spans.some((s) => s.name === `decompose ${step}`)).toBe(true);
  });
});
