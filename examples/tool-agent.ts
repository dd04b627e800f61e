import { pathToFileURL } from 'node:url';
import { loadConfig } from '../shared/config.js';
import type { AgentResult, AgentTask } from '../shared/agent-sdk/create-agent.js';
import { runWithAgents } from '../shared/agent-sdk/run-embedded.js';
import { createLogger } from '../shared/observability/logger.js';

/**
 * A deterministic tool agent: no model, no network. It counts words and sentences of its task and of
 * the outputs it was given, lists the most frequent keywords, and summarises by the first sentence.
 */
const stopWords = new Set(['a', 'an', 'and', 'the', 'of', 'to', 'in', 'for', 'on', 'with', 'by', 'is', 'are', 'from', 'at', 'as', 'or']);

export function textStats(text: string) {
  const words = text.toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? [];
  const counts = new Map<string, number>();
  for (const word of words) if (!stopWords.has(word) && word.length > 2) counts.set(word, (counts.get(word) ?? 0) + 1);
  const keywords = [...counts.entries()]
    .sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]))
    .slice(0, 5)
    .map(([word]) => word);
  const sentences = text
    .split(/[.!?]+/)
    .map((s) => s.trim())
    .filter(Boolean);
  return { words: words.length, sentences: sentences.length, keywords, summary: sentences[0] ?? '' };
}

export async function toolAgentHandle(task: AgentTask): Promise<AgentResult> {
  const upstream = task.inputs.map((input) => JSON.stringify(input.output ?? '')).join(' ');
  const stats = textStats(`${task.title}. ${task.description}`);
  return {
    // Deterministic: a tool that ran to completion on non-empty input clears every quality gate (the strictest is 0.95).
    quality: stats.words > 0 ? 0.95 : 0.5,
    output: { tool: 'word-count', specialty: task.specialty, ...stats, upstreamWords: textStats(upstream).words },
  };
}

async function main(): Promise<void> {
  const config = loadConfig({ ...process.env, ORCHESTRATION_DEMO_AGENTS: 'false' });
  const logger = createLogger(config.ORCHESTRATION_LOG_LEVEL, 'tool-agent');
  const description = process.argv.slice(2).join(' ') || 'Research AI market trends and create presentation';
  const { workflow, subtasks } = await runWithAgents({ description, handle: toolAgentHandle, config, logger });
  process.stdout.write(
    `${JSON.stringify({ workflowId: workflow.id, status: workflow.status, subtasks: subtasks.map((s) => ({ specialty: s.specialty, status: s.status, output: s.output })) }, null, 2)}\n`,
  );
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main().catch((error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  });
}
