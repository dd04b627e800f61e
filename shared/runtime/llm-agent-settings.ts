import { z } from 'zod';
import { llmSettingsSchema } from '../adapters/llm/llm-settings.js';
import { allSpecialties, specialtySchema, type Specialty } from '../domain/vocabulary.js';
import { ConfigError } from '../errors.js';

const specialtyList = z.string().transform((text, ctx): Specialty[] => {
  const names = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (names.length === 1 && (names[0] === '*' || names[0] === 'all')) return [...allSpecialties];
  const unknown = names.filter((n) => !specialtySchema.safeParse(n).success);
  if (names.length === 0 || unknown.length > 0) {
    ctx.addIssue({
      code: 'custom',
      message: `${unknown.length ? `unknown ${unknown.map((n) => JSON.stringify(n)).join(', ')}; ` : ''}expected a comma list of specialties (or *), from: ${allSpecialties.join(', ')}`,
    });
    return z.NEVER;
  }
  return [...new Set(names)] as Specialty[];
});

/** `npm run agent:llm`: where the API is, who this agent is, what it does, and the model it does it with. */
export const llmAgentSettingsSchema = llmSettingsSchema.extend({
  AMAS_URL: z.url({ protocol: /^https?$/ }).default('http://127.0.0.1:8000'),
  /** The agent's own API key (`amas keys create --role agent --agent-id <AGENT_ID>`); unset only against AMAS_AUTH=none. */
  AMAS_AGENT_KEY: z.string().min(1).optional(),
  AGENT_ID: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$/, 'letters, digits, dots, dashes and underscores, at most 200'),
  AGENT_SPECIALTIES: specialtyList,
  AGENT_CAPACITY: z.coerce.number().int().min(1).max(1_000).default(2),
  AGENT_MAX_ANSWER_TOKENS: z.coerce.number().int().min(16).max(200_000).default(4_000),
  AGENT_LOG_LEVEL: z.enum(['DEBUG', 'INFO', 'WARNING', 'ERROR']).default('INFO'),
});
export type LlmAgentSettings = z.infer<typeof llmAgentSettingsSchema>;

const requiredHints: Record<string, string> = {
  LLM_BASE_URL: 'an OpenAI-compatible endpoint, e.g. http://127.0.0.1:11434/v1 (Ollama)',
  LLM_MODEL: 'the model to ask, e.g. llama3.1:8b',
  AGENT_ID: "this agent's id, the one its key is bound to",
  AGENT_SPECIALTIES: 'a comma list of specialties, or * for all 30',
};

/** The settings, or a ConfigError naming the first bad variable (exit 2). */
export function llmAgentSettingsFromEnv(env: Record<string, string | undefined> = process.env): LlmAgentSettings {
  // An empty variable is an unset one (a compose file's `KEY=`).
  const present = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = llmAgentSettingsSchema.safeParse(present);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0];
  const name = String(issue?.path[0] ?? 'AGENT_*');
  const value = env[name];
  const message =
    value === undefined || value === ''
      ? `${name} is required${requiredHints[name] ? `: ${requiredHints[name]}` : ''}`
      : `${name}=${JSON.stringify(value)} is invalid: ${issue?.message ?? 'bad value'}`;
  throw new ConfigError(message);
}
