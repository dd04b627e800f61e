import { Router, type Request, type Response } from 'express';
import type { Clock } from '../ports/clock.port.js';
import { systemClock } from '../adapters/memory/clock.system.js';
import type { CommunicationBus } from '../messaging/communication-bus.js';
import { verifyAgentToken, type AgentKeyStore } from '../messaging/message-auth.js';
import { sendMessageInputSchema } from '../messaging/message-schema.js';

export interface MessagesRouterOptions {
  keys: AgentKeyStore;
  clock?: Clock;
}

/**
 * POST /v1/messages sends as the agent the bearer token authenticates (a body naming another sender
 * is refused with 403); GET /v1/messages/metrics reports the bus's communication metrics.
 * Bad bodies throw ZodError, which the app's error handler turns into a 400; a tenant's agent
 * addressing another tenant's agent gets the bus's NotFoundError, the 404 of an unknown agent.
 */
export function createMessagesRouter(bus: CommunicationBus, options: MessagesRouterOptions): Router {
  const clock = options.clock ?? systemClock;
  const router = Router();

  router.post('/v1/messages', async (req: Request, res: Response) => {
    const [scheme, token] = (req.get('Authorization') ?? '').split(' ');
    const agentId = scheme === 'Bearer' && token ? await verifyAgentToken(options.keys, token, clock.now()) : null;
    if (!agentId) {
      res.setHeader('WWW-Authenticate', 'Bearer');
      res.status(401).json({ error: 'unauthenticated', message: 'an agent token is required: Authorization: Bearer <token>' });
      return;
    }
    const input = sendMessageInputSchema.parse(req.body ?? {});
    if (input.senderId !== agentId) {
      res.status(403).json({ error: 'forbidden', message: `the token authenticates ${agentId}, not ${input.senderId}` });
      return;
    }
    const sent = await bus.sendMessage(input);
    res.status(202).json(sent);
  });

  router.get('/v1/messages/metrics', (_req, res) => {
    res.json(bus.getCommunicationMetrics());
  });

  return router;
}
