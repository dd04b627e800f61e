import express from 'express';
import { functionSubscriptions, type FunctionName } from '../events/index.js';
import { describeError, isRetriable } from '../errors.js';
import { retry } from '../retry.js';
import { cloudEventFromHttp } from './cloudevents-http.js';
import { observeTimings, retryPolicy } from './function-consumer.js';
import { processEvent } from './process-event.js';
import type { Runtime } from './runtime.js';
import { inEventSpan } from './tracing/index.js';

/**
 * Knative-compatible entry point of one function: a CloudEvent POSTed to `/` (binary or structured)
 * runs through the same `processEvent` as the Kafka consumer. 2xx acknowledges; 400 says the event
 * can never be processed (Knative sends it to the dead-letter sink); 503 asks Knative to retry.
 */
export function createFunctionHttpApp(name: FunctionName, runtime: Runtime) {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ type: ['application/json', 'application/cloudevents+json', 'application/*+json'], limit: '1mb' }));
  const { topic } = functionSubscriptions[name];
  app.post('/', async (req, res) => {
    const started = performance.now();
    try {
      const event = cloudEventFromHttp(req.headers, req.body);
      // The same span, timings and counters as the Kafka consumer's: Knative delivers the record instead.
      const result = await inEventSpan(`${name} process`, event, { 'messaging.destination.name': topic }, () =>
        retry(retryPolicy(runtime.ports.config), () => processEvent(name, event, runtime.ports, { logger: runtime.logger })),
      );
      runtime.metrics.eventsProcessed.inc({ function: name, result: result.status });
      observeTimings(name, result, started, runtime.metrics);
      if (result.status === 'applied' || result.status === 'skipped') runtime.relay.kick();
      res.status(200).json({ status: result.status, id: result.event.id });
    } catch (error) {
      const { code, message } = describeError(error);
      const retriable = isRetriable(error);
      if (!retriable) {
        // 400: Knative sends it to the dead-letter sink.
        runtime.metrics.eventsProcessed.inc({ function: name, result: 'dead_lettered' });
        runtime.metrics.deadLetters.inc({ topic });
        runtime.logger.error('event rejected to the dead-letter sink', { function: name, topic, code, message });
      }
      res.status(retriable ? 503 : 400).json({ error: code.toLowerCase(), message });
    }
  });
  return app;
}
