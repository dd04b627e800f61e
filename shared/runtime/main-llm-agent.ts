import { HttpAgentError } from '../agent-sdk/http-agent.js';
import { ConfigError } from '../errors.js';
import { createLogger } from '../observability/logger.js';
import { startLlmAgent } from './llm-agent.js';
import { exitGracefullyOnSignals } from './shutdown.js';
import { llmAgentSettingsFromEnv } from './llm-agent-settings.js';

/**
 * `npm run agent:llm`: one LLM specialist agent process. It needs only the API's URL, its own agent
 * key and an OpenAI-compatible endpoint (LLM_*); SIGTERM stops polling, lets the work in hand finish
 * (or aborts it after 20 s, reported failed so it re-runs elsewhere) and exits 0.
 */
async function main(): Promise<void> {
  const settings = llmAgentSettingsFromEnv();
  const logger = createLogger(settings.AGENT_LOG_LEVEL, 'amas-llm-agent');
  const agent = await startLlmAgent(settings, logger).catch((error: unknown) => {
    if (error instanceof HttpAgentError && (error.status === 401 || error.status === 403)) {
      throw new ConfigError(
        `AMAS_AGENT_KEY is refused by ${settings.AMAS_URL} (${error.status}): create one with \`amas keys create --role agent --tenant '*' --agent-id ${settings.AGENT_ID}\``,
      );
    }
    throw new Error(`could not register at AMAS_URL=${settings.AMAS_URL}: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  });
  logger.info('llm agent running', {
    agentId: agent.id,
    url: settings.AMAS_URL,
    model: settings.LLM_MODEL,
    specialties: settings.AGENT_SPECIALTIES.length,
    capacity: settings.AGENT_CAPACITY,
  });

  exitGracefullyOnSignals(null, [agent], logger);
}

main().catch((error: unknown) => {
  const config = error instanceof ConfigError;
  process.stderr.write(config ? `${error.message}\n` : `amas-llm-agent failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(config ? 2 : 1);
});
