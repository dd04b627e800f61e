import express from 'express';
import type { FunctionName } from '../events/index.js';
import { describeError, isRetriable } from '../errors.js';
import { retry } from '../retry.js';
import { cloudEventFromHttp } from './cloudevents-http.js';
import { retryPolicy } from './function-consumer.js';
import { processEvent } from './process-event.js';
import type { Runtime } from './runtime.js';

/**
 * Knative-compatible entry point of one function: a CloudEvent POSTed to `/` (binary or structured)
 * runs through the same `processEvent` as the Kafka consumer. 2xx acknowledges; 400 says the event
 * can never be processed (Knative sends it to the dead-letter sink); 503 asks Knative to retry.
 */
export function createFunctionHttpApp(name: FunctionName, runtime: Runtime) {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ type: ['application/json', 'application/cloudevents+json', 'application/*+json'], limit: '1mb' }));
  app.post('/', async (req, res) => {
    try {
      const event = cloudEventFromHttp(req.headers, req.body);
      const result = await retry(retryPolicy(runtime.ports.config), () => processEvent(name, event, runtime.ports, { logger: runtime.logger }));
      runtime.metrics.eventsProcessed.inc({ function: name, result: result.status });
      if (result.status === 'applied' || result.status === 'skipped') runtime.relay.kick();
      res.status(200).json({ status: result.status, id: result.event.id });
    } catch (error) {
      const { code, message } = describeError(error);
      res.status(isRetriable(error) ? 503 : 400).json({ error: code.toLowerCase(), message });
    }
  });
  return app;
}
