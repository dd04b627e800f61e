import express from 'express';
import { functionSubscriptions, type ConsumerName } from '../events/index.js';
import { cloudEventFromHttp } from './cloudevents-http.js';
import { handleDelivery } from '../engine/delivery.js';
import type { Runtime } from '../runtime/runtime.js';

/**
 * Knative-compatible binding of one function: a CloudEvent POSTed to `/` (binary or structured)
 * goes through the same handleDelivery as a Kafka record. 200 acknowledges; 503 with Retry-After
 * asks Knative to deliver it again (its delivery spec bounds how often); 400 says it can never be
 * processed, and Knative hands it to the dead-letter sink with this response's body (the reason)
 * as its `knativeerrordata`.
 */
export function createFunctionHttpApp(name: ConsumerName, runtime: Runtime) {
  const app = express();
  app.disable('x-powered-by');
  app.use(express.json({ type: ['application/json', 'application/cloudevents+json', 'application/*+json'], limit: '1mb' }));
  const { topic } = functionSubscriptions[name];
  app.post('/', async (req, res) => {
    const decision = await handleDelivery(name, () => cloudEventFromHttp(req.headers, req.body), runtime.ports, {
      logger: runtime.logger,
      metrics: runtime.metrics,
      redelivery: { kind: 'transport' },
      attributes: { 'messaging.destination.name': topic },
      onAck: async () => runtime.relay.kick(),
    });
    if (decision.kind === 'ack') {
      res.status(200).json({ status: decision.result.status, id: decision.result.event.id });
      return;
    }
    const { code, message } = decision.reason;
    if (decision.kind === 'retry') res.set('Retry-After', String(Math.max(1, Math.ceil(decision.afterMs / 1000))));
    res.status(decision.kind === 'retry' ? 503 : 400).json({ error: code.toLowerCase(), code, message });
  });
  return app;
}
