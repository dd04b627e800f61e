import type { Config } from '../config.js';
import type { ConsumerName } from '../events/index.js';
import type { AgentDirectory, ChangeLog, Clock, DeadLetterRedrives, EventBus, Ids, LeaseStore, Planner, Subscription, WorkflowStore } from '../ports/index.js';
import { createChangeHub, type ChangeHub } from '../http-api/streams/change-hub.js';
import { deterministicPlanner } from '../../functions/index.js';
import { systemClock } from '../adapters/memory/clock.system.js';
import { createIds } from '../adapters/memory/ids.js';
import { createDemoAgents, type DemoAgents } from '../agent-sdk/demo-agents.js';
import { startFunctionConsumer } from '../bindings/function-consumer.js';
import type { RuntimePorts } from '../engine/functions.js';
import type { HealthCheck } from '../adapters/resilient.js';
import type { Logger } from '../observability/logger.js';
import { createMetrics, type Metrics } from '../observability/metrics.js';
import { createOutboxRelay, type OutboxRelay } from '../engine/outbox-relay.js';
import { createRecoveryLoop, recoveryIntervalMs } from '../engine/recovery.js';
import { resumeActiveWorkflows } from '../engine/resume.js';
import type { CommunicationBus } from '../messaging/communication-bus.js';
import type { AgentKeyStore } from '../messaging/message-auth.js';
import { startMessageRelay, type MessagingOptions } from '../engine/message-relay.js';

export interface Adapters {
  bus: EventBus;
  store: WorkflowStore;
  leases: LeaseStore;
  directory: AgentDirectory;
  planner?: Planner;
  clock?: Clock;
  ids?: Ids;
  /** Real servers behind circuit breakers; readiness turns red while one is down. */
  healthChecks?: HealthCheck[];
  /** The committed state changes (the live streams read them); absent: no streams. */
  changeLog?: ChangeLog;
  deadLetterRedrives?: DeadLetterRedrives;
}

export interface RuntimeOptions {
  config: Config;
  adapters: Adapters;
  logger: Logger;
  /** Which functions this process runs as consumers (all four in the embedded runtime). */
  functions?: readonly ConsumerName[];
  demoAgents?: boolean;
  /** Names this process's demo agents among several agents processes (AMAS_DEMO_AGENT_INSTANCE). */
  demoInstance?: string;
  recovery?: boolean;
  recoveryIntervalMs?: number;
  relayIntervalMs?: number;
  metrics?: Metrics;
  /**
   * Agent messaging: the communication bus, the relay that signs the orchestration's agent.message
   * events onto it (escalations, approval requests, lost-agent notices) and POST /v1/messages.
   * Default: on when demo agents are (the embedded runtime). The signing secret is `secret`, else
   * AMAS_MESSAGE_SECRET, else one generated for this process (with a warning).
   */
  messaging?: boolean | MessagingOptions;
  /** Re-drive the workflows a previous process left active (its in-process bus and leases died with it). */
  resume?: boolean;
}

export interface Runtime {
  ports: RuntimePorts;
  bus: EventBus;
  metrics: Metrics;
  relay: OutboxRelay;
  demoAgents: DemoAgents | null;
  recovery: ReturnType<typeof createRecoveryLoop> | null;
  logger: Logger;
  healthChecks: HealthCheck[];
  /** The communication bus, when messaging is on. */
  messages?: CommunicationBus | null;
  messageKeys?: AgentKeyStore | null;
  /** Fans the change log out to the API's streams (null without a change log). */
  changes: ChangeHub | null;
  deadLetterRedrives: DeadLetterRedrives | null;
  stop(): Promise<void>;
}

/**
 * The composition root: wires adapters into the four functions, the outbox relay, the recovery
 * loop and (embedded only) the demo agents. The same code runs one function per process on Kafka.
 */
export async function startRuntime(options: RuntimeOptions): Promise<Runtime> {
  const { config, adapters, logger } = options;
  const clock = adapters.clock ?? systemClock;
  const ids = adapters.ids ?? createIds();
  const metrics = options.metrics ?? createMetrics();
  const context = { clock, ids, source: 'amas/orchestration' };
  await adapters.store.migrate();

  const demoAgents = options.demoAgents
    ? createDemoAgents({
        bus: adapters.bus,
        directory: adapters.directory,
        leases: adapters.leases,
        context,
        config,
        logger,
        instance: options.demoInstance ?? '',
      })
    : null;
  const ports: RuntimePorts = {
    store: adapters.store,
    leases: adapters.leases,
    directory: adapters.directory,
    planner: adapters.planner ?? deterministicPlanner,
    ...(demoAgents ? { spawner: demoAgents.spawner } : {}),
    clock,
    ids,
    config,
    source: context.source,
  };
  const relay = createOutboxRelay(adapters.store, adapters.bus, logger, { intervalMs: options.relayIntervalMs ?? 250 });
  await demoAgents?.start();
  // Before the consumers start: what resume re-sends or reclaims is all they find.
  if (options.resume) await resumeActiveWorkflows(ports, adapters.bus, logger);

  const subscriptions: Subscription[] = [];
  for (const name of options.functions ?? (['decompose', 'assign', 'dispatch', 'complete'] as const)) {
    subscriptions.push(await startFunctionConsumer(name, { bus: adapters.bus, ports, logger, metrics, onCommitted: () => relay.kick() }));
  }
  const recovery =
    options.recovery === false
      ? null
      : createRecoveryLoop({
          store: adapters.store,
          leases: adapters.leases,
          directory: adapters.directory,
          bus: adapters.bus,
          context,
          config,
          logger,
          metrics,
          intervalMs: options.recoveryIntervalMs ?? recoveryIntervalMs(config),
        });
  recovery?.start();
  relay.kick();
  const changes = adapters.changeLog ? createChangeHub(adapters.changeLog, logger) : null;
  const messagingOptions = options.messaging ?? options.demoAgents === true;
  const messaging =
    messagingOptions === false
      ? null
      : await startMessageRelay({ eventBus: adapters.bus, ports, relay, logger, metrics, options: messagingOptions === true ? {} : messagingOptions });

  return {
    ports,
    bus: adapters.bus,
    metrics,
    relay,
    demoAgents,
    recovery,
    logger,
    healthChecks: adapters.healthChecks ?? [],
    messages: messaging?.bus ?? null,
    messageKeys: messaging?.keys ?? null,
    changes,
    deadLetterRedrives: adapters.deadLetterRedrives ?? null,
    async stop() {
      await changes?.stop();
      await messaging?.stop();
      await recovery?.stop();
      await demoAgents?.stop();
      for (const subscription of subscriptions) await subscription.stop();
      await relay.stop();
    },
  };
}
