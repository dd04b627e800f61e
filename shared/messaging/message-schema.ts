import { z } from 'zod';
import { messageTypeSchema, prioritySchema } from '../domain/vocabulary.js';
import type { DataOf } from '../events/index.js';

/** What a sender asks for: exactly one of a recipient, a team, or a broadcast (true: every inbox; a string: a topic's subscribers). */
export const sendMessageInputSchema = z
  .object({
    senderId: z.string().min(1),
    recipientId: z.string().min(1).optional(),
    team: z.string().min(1).optional(),
    broadcast: z.union([z.literal(true), z.string().min(1)]).optional(),
    messageType: messageTypeSchema,
    priority: prioritySchema.default('NORMAL'),
    payload: z.record(z.string(), z.unknown()).default({}),
    correlationId: z.string().min(1).optional(),
  })
  .refine((m) => [m.recipientId, m.team, m.broadcast].filter((t) => t !== undefined).length === 1, {
    message: 'give exactly one of recipientId, team or broadcast',
    path: ['recipientId'],
  });
export type SendMessageInput = z.input<typeof sendMessageInputSchema>;

/** A message as its recipient sees it: the `agent.message` data plus the broadcast topic, when broadcast. */
export type AgentMessage = DataOf<'agent.message'> & { topic?: string };

/** Headers that carried the signature and the broadcast topic before they became `agent.message` fields; still read on receipt. */
export const messageHeaders = { signature: 'amas-signature', topic: 'amas-topic' } as const;

/** The broadcast topic that reaches every local inbox. */
export const everyone = '*';
