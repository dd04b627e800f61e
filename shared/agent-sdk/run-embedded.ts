import { createMemoryAgentDirectory } from '../adapters/memory/agent-directory.memory.js';
import { systemClock } from '../adapters/memory/clock.system.js';
import { createMemoryEventBus } from '../adapters/memory/event-bus.memory.js';
import { createIds } from '../adapters/memory/ids.js';
import { createMemoryLeaseStore } from '../adapters/memory/lease-store.memory.js';
import { createPgliteClient } from '../adapters/sql/sql-client.pglite.js';
import { createSqlWorkflowStore } from '../adapters/sql/workflow-store.sql.js';
import type { Config } from '../config.js';
import { allSpecialties, groupOf, leadRoleOf } from '../domain/vocabulary.js';
import type { Subtask, Workflow } from '../domain/workflow.js';
import { isoTime, makeEvent, taskSubmitted } from '../events/index.js';
import type { Logger } from '../observability/logger.js';
import { toOutbox } from '../engine/process-event.js';
import { startRuntime } from '../runtime/runtime.js';
import { createAgent, type AgentResult, type AgentTask } from './create-agent.js';
import { createSubtaskInbox } from './subtask-inbox.js';

export interface EmbeddedRun {
  workflow: Workflow;
  subtasks: Subtask[];
}

/**
 * For the examples: an embedded orchestrator (memory bus, PGlite) with no demo agents, one SDK
 * agent per specialty running `handle`, one task submitted and awaited.
 */
export async function runWithAgents(options: {
  description: string;
  handle: (task: AgentTask) => Promise<AgentResult>;
  config: Config;
  logger: Logger;
  timeoutMs?: number;
}): Promise<EmbeddedRun> {
  const { config, logger } = options;
  const bus = createMemoryEventBus();
  const store = createSqlWorkflowStore(await createPgliteClient());
  const directory = createMemoryAgentDirectory();
  const leases = createMemoryLeaseStore(systemClock);
  const ids = createIds();
  const runtime = await startRuntime({ config, adapters: { bus, store, leases, directory, ids }, logger, demoAgents: false, relayIntervalMs: 50 });
  const inbox = createSubtaskInbox({ bus, groupId: 'example-agents', logger });
  const agents = [];
  try {
    for (const specialty of allSpecialties) {
      agents.push(
        await createAgent({
          id: `agent-${specialty}`,
          layer: 'SPECIALIST',
          specialties: [specialty],
          supervisorId: leadRoleOf[groupOf(specialty)],
          handle: options.handle,
          bus,
          directory,
          leases,
          config,
          inbox,
          logger,
        }),
      );
    }
    const workflowId = ids.newId('wf');
    const submitted = makeEvent(
      taskSubmitted,
      { workflowId, description: options.description, priority: 'NORMAL', metadata: {}, requireApproval: false },
      { ids, clock: systemClock, source: 'example' },
    );
    await store.createWorkflow(
      { id: workflowId, description: options.description, priority: 'NORMAL', metadata: {}, idempotencyKey: null, createdAt: isoTime(Date.now()) },
      toOutbox([submitted]),
    );
    runtime.relay.kick();
    const deadline = Date.now() + (options.timeoutMs ?? 600_000);
    for (;;) {
      const workflow = await store.getWorkflow(workflowId);
      if (workflow && ['completed', 'failed', 'cancelled'].includes(workflow.status)) return { workflow, subtasks: await store.getSubtasks(workflowId) };
      // Nobody here can approve: say so instead of waiting out the timeout.
      if (workflow?.status === 'awaiting_approval')
        throw new Error(`workflow ${workflowId}'s plan awaits approval and this run has no approver: run it with ORCHESTRATION_PLAN_APPROVAL=off`);
      if (Date.now() > deadline) throw new Error(`workflow ${workflowId} did not finish in time`);
      await new Promise((r) => setTimeout(r, 100));
    }
  } finally {
    for (const agent of agents) await agent.stop();
    await inbox.stop();
    await runtime.stop();
    await bus.close();
    await store.close();
  }
}
