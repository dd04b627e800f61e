// Agent messaging and assignment: message latency (p50/p99) and msgs/min through the communication
// bus over real Kafka, next to a raw kafkajs round trip in the same run; and the assign handler's
// agent pick + reserve (lead consulted, candidates ranked, one slot reserved) with 5,000 registered
// agents in the memory and the Neo4j directory (with and without its read cache). Targets are
// printed, never asserted.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel, type Admin } from 'kafkajs';
import neo4j from 'neo4j-driver';
import { pickAgent, type PickDeps } from '../functions/index.js';
import { workKeyOf } from '../shared/domain/protocol.js';
import { createKafkaEventBus, testConsumerTimings } from '../shared/adapters/kafka/event-bus.kafka.js';
import { createMemoryAgentDirectory } from '../shared/adapters/memory/agent-directory.memory.js';
import { systemClock } from '../shared/adapters/memory/clock.system.js';
import { createNeo4jAgentDirectory } from '../shared/adapters/neo4j/agent-directory.neo4j.js';
import { directoryCacheOptions } from '../shared/adapters/neo4j/candidate-cache.js';
import { defaultConfig } from '../shared/config.js';
import { allSpecialties, groupOf, leadRoleOf, managementRoles } from '../shared/domain/vocabulary.js';
import { createCommunicationBus } from '../shared/messaging/communication-bus.js';
import { createDerivedKeyStore } from '../shared/messaging/message-auth.js';
import type { AgentDirectory, AgentRegistration, EventBus } from '../shared/ports/index.js';
import { silentLogger } from '../shared/observability/logger.js';
import { createReport, distribution, isEntryPoint, now, printReport, runAsScript, runConcurrently, waitUntil, type BenchOptions, type Report } from './lib.js';

const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
const neo4jUrl = process.env.NEO4J_URL ?? 'bolt://127.0.0.1:7687';
const payload = { data: 'test', findings: 'x'.repeat(200) };

export async function runMessagesBench(options: BenchOptions): Promise<Report> {
  const run = randomUUID().slice(0, 8);
  const prefix = `bench-msg-${run}.`;
  const volume = options.quick
    ? { roundTrips: 40, messages: 3_000, concurrency: 64, agents: 5_000, neo4jAgents: 1_000, picks: 60 }
    : { roundTrips: 500, messages: 50_000, concurrency: 128, agents: 5_000, neo4jAgents: 5_000, picks: 1_000 };
  const report = createReport(`Messaging and assignment benchmark${options.quick ? ' (--quick)' : ''}`);
  const kafka = new Kafka({ clientId: `bench-msg-${run}`, brokers, logLevel: logLevel.NOTHING });
  const admin = kafka.admin();
  await admin.connect();
  const eventBus = createKafkaEventBus({ brokers, clientId: `bench-msg-${run}-bus`, partitions: 6, topicPrefix: prefix, consumer: testConsumerTimings });
  const publishes = countingPublishes(eventBus);
  const bus = createCommunicationBus({
    eventBus: publishes.bus,
    keys: createDerivedKeyStore(`bench-secret-${run}`),
    config: defaultConfig(),
    logger: silentLogger,
    groupId: `${prefix}inboxes`,
  });
  let busClosed = false;
  try {
    // --- messages ---------------------------------------------------------------------------------
    let arrived: (() => void) | undefined;
    let received = 0;
    await bus.onMessage('agent_2', () => {
      received += 1;
      arrived?.();
    });
    const rawTopic = `${prefix}raw`;
    await admin.createTopics({ topics: [{ topic: rawTopic, numPartitions: 6 }], waitForLeaders: true });
    const producer = kafka.producer({ allowAutoTopicCreation: false });
    const consumer = kafka.consumer({ groupId: `${rawTopic}.group`, ...testConsumerTimings });
    await Promise.all([producer.connect(), consumer.connect()]);
    await consumer.subscribe({ topics: [rawTopic], fromBeginning: true });
    await consumer.run({
      eachMessage: async () => {
        received += 1;
        arrived?.();
      },
    });
    const timed = async (send: () => Promise<unknown>) => {
      const got = new Promise<void>((resolve) => (arrived = resolve));
      const started = now();
      await send();
      await got;
      return now() - started;
    };
    const sendBus = () => bus.sendMessage({ senderId: 'agent_1', recipientId: 'agent_2', messageType: 'SHARE_FINDINGS', priority: 'NORMAL', payload });
    const sendRaw = () =>
      producer.send({
        topic: rawTopic,
        acks: -1,
        messages: [{ key: 'agent_2', value: JSON.stringify({ senderId: 'agent_1', recipientId: 'agent_2', payload }) }],
      });
    // The first records wait for the consumer groups to join; then a few to warm up.
    for (let i = 0; i < 20; i++) {
      await timed(sendRaw);
      await timed(sendBus);
    }
    const raw: number[] = [];
    const viaBus: number[] = [];
    for (let i = 0; i < volume.roundTrips; i++) {
      raw.push(await timed(sendRaw));
      viaBus.push(await timed(sendBus));
    }
    arrived = undefined;
    const rawLatency = distribution(raw);
    const busLatency = distribution(viaBus);
    report.figure('raw.p50', 'raw kafkajs round trip p50', rawLatency.p50, 'ms');
    report.figure('raw.p99', 'raw kafkajs round trip p99', rawLatency.p99, 'ms');
    report.figure('bus.p50', 'bus sendMessage -> handler p50', busLatency.p50, 'ms');
    report.figure('bus.p99', 'bus sendMessage -> handler p99', busLatency.p99, 'ms');
    report.ratio('latency.p50', 'bus / raw latency p50', busLatency.p50, rawLatency.p50);
    report.ratio('latency.p99', 'bus / raw latency p99', busLatency.p99, rawLatency.p99);

    // Throughput, end to end (first send -> last delivery to the recipient's handler): `concurrency`
    // senders, each awaiting its send before the next. Raw kafkajs sends one record per send; the
    // bus coalesces the sends of a tick into one publish per band. Raw and bus alternate, twice.
    const burst = async (send: () => Promise<unknown>) => {
      received = 0;
      const started = now();
      await runConcurrently(volume.messages, volume.concurrency, async () => void (await send()));
      await waitUntil(() => received >= volume.messages, 120_000, `${volume.messages} messages`);
      return (volume.messages * 60_000) / (now() - started);
    };
    let rawRate = 0;
    let busRate = 0;
    const publishesBefore = publishes.count();
    for (let round = 0; round < 2; round++) {
      rawRate += (await burst(sendRaw)) / 2;
      busRate += (await burst(sendBus)) / 2;
    }
    const recordsPerPublish = (2 * volume.messages) / (publishes.count() - publishesBefore);
    // The ceiling: the same records through raw kafkajs in batches of 500, 4 batches in flight.
    const batch = Array.from({ length: 500 }, () => ({ key: 'agent_2', value: JSON.stringify({ senderId: 'agent_1', recipientId: 'agent_2', payload }) }));
    received = 0;
    const batchedStarted = now();
    await runConcurrently(Math.ceil(volume.messages / 500), 4, async () => void (await producer.send({ topic: rawTopic, acks: -1, messages: batch })));
    await waitUntil(() => received >= Math.ceil(volume.messages / 500) * 500, 120_000, 'the batched records');
    const batchedRate = (Math.ceil(volume.messages / 500) * 500 * 60_000) / (now() - batchedStarted);
    report.figure('raw.rate', 'raw kafkajs msgs/min, one record per send', rawRate, 'msgs/min');
    report.figure('raw.batched.rate', 'raw kafkajs msgs/min, batches of 500', batchedRate, 'msgs/min');
    report.figure('bus.rate', 'bus msgs/min (signed, verified, delivered)', busRate, 'msgs/min');
    report.figure('bus.batch', 'bus records per Kafka publish (mean)', recordsPerPublish, '');
    report.ratio('rate', 'bus / raw msgs/min, one record per send', busRate, rawRate);
    report.ratio('rate.batched', 'bus / raw msgs/min, batches of 500', busRate, batchedRate);
    await Promise.all([producer.disconnect(), consumer.disconnect()]);
    // The assignment figures below do not involve the bus: its consumers stop polling first.
    busClosed = true;
    await bus.close();

    // --- assignment -------------------------------------------------------------------------------
    const memoryDirectory = createMemoryAgentDirectory({ maxTasksPerAgent: 3 });
    await register(memoryDirectory, volume.agents);
    const memory = await assignment(memoryDirectory, volume.picks);
    report.figure('assign.memory.p50', `pick+reserve p50, memory, ${volume.agents} agents`, memory.latency.p50, 'ms');
    report.figure('assign.memory.p99', `pick+reserve p99, memory, ${volume.agents} agents`, memory.latency.p99, 'ms');
    const driver = neo4j.driver(neo4jUrl);
    const namespace = `bench-${run}`;
    const cacheOptions = directoryCacheOptions(defaultConfig());
    const ttlMs = cacheOptions.cacheTtlMs ?? 0;
    const graph = createNeo4jAgentDirectory(driver, { namespace, maxTasksPerAgent: 3 });
    try {
      await graph.migrate();
      const registerMs = await register(graph, volume.neo4jAgents);
      // The same graph through two directories: without the cache (every pick reads), and with it as deployed (ORCHESTRATION_ENABLE_CACHE=true).
      const uncached = await assignment(graph, volume.picks);
      const cached = await assignment(createNeo4jAgentDirectory(driver, { namespace, maxTasksPerAgent: 3, ...cacheOptions }), volume.picks);
      report.figure('assign.neo4j.nocache.p50', `pick+reserve p50, Neo4j, no cache, ${volume.neo4jAgents} agents`, uncached.latency.p50, 'ms');
      report.figure('assign.neo4j.nocache.p99', `pick+reserve p99, Neo4j, no cache, ${volume.neo4jAgents} agents`, uncached.latency.p99, 'ms');
      report.figure('assign.neo4j.p50', `pick+reserve p50, Neo4j, ${ttlMs} ms cache, ${volume.neo4jAgents} agents`, cached.latency.p50, 'ms');
      report.figure('assign.neo4j.p99', `pick+reserve p99, Neo4j, ${ttlMs} ms cache, ${volume.neo4jAgents} agents`, cached.latency.p99, 'ms');
      report.ratio('assign.neo4j.p99', 'Neo4j pick p99 with cache / without', cached.latency.p99, uncached.latency.p99);
      report.note(
        `registering ${volume.neo4jAgents} agents in Neo4j took ${(registerMs / 1000).toFixed(1)} s; ${cached.teamPicks}/${volume.picks} cached picks went to the lead's team`,
      );
      report.note(
        `assignment: ${volume.picks} picks per directory, each reserve released at once; ${allSpecialties.length} warm-up picks first (one per specialty), not counted`,
      );
      report.target(
        'assignment p99 < 20 ms (Neo4j, cache on as deployed)',
        cached.latency.p99 < 20,
        `${cached.latency.p99.toFixed(2)} ms (without the cache ${uncached.latency.p99.toFixed(2)} ms)`,
      );
    } finally {
      await graph.clear().catch(() => undefined);
      await driver.close();
    }
    report.target('assignment p99 < 20 ms (memory)', memory.latency.p99 < 20, `${memory.latency.p99.toFixed(2)} ms`);
    report.target('message p99 < 15 ms', busLatency.p99 < 15, `${busLatency.p99.toFixed(2)} ms (raw kafkajs ${rawLatency.p99.toFixed(2)} ms)`);
    report.target(
      '>= 600,000 msgs/min',
      busRate >= 600_000,
      `${Math.round(busRate).toLocaleString('en-US')} msgs/min (raw kafkajs ${Math.round(rawRate).toLocaleString('en-US')})`,
    );
    if (options.quick) report.note('--quick registers 1,000 agents in Neo4j (5,000 take 10–20 s there); the full run registers 5,000 in both directories');
    report.note(
      `messages: ${volume.roundTrips} sequential round trips each way; ${volume.messages} messages x2 per side at ${volume.concurrency} in flight; sender and recipient share this process; 2-core machine, one local broker`,
    );
  } finally {
    if (!busClosed) await bus.close();
    await eventBus.close();
    await cleanKafka(admin, prefix);
  }
  printReport(report, options.print);
  return report;
}

/** Registers `count` agents: 6 leads, the rest specialists spread over every specialty, each reporting to its lead or not. Returns the ms it took. */
async function register(directory: AgentDirectory, count: number): Promise<number> {
  const t0 = systemClock.now();
  const registrations: AgentRegistration[] = managementRoles.map((role) => ({
    id: `lead-${role}`,
    layer: 'MANAGEMENT',
    role,
    specialties: [],
    capacity: 5,
    demo: false,
  }));
  for (let i = 0; registrations.length < count; i++) {
    const specialty = allSpecialties[i % allSpecialties.length]!;
    // Half of each pool is in its lead's team, half reports elsewhere: the lead's preference has work to do.
    const supervisorId = Math.floor(i / allSpecialties.length) % 2 === 0 ? `lead-${leadRoleOf[groupOf(specialty)]}` : undefined;
    registrations.push({
      id: `s-${specialty}-${i}`,
      layer: 'SPECIALIST',
      role: specialty,
      specialties: [specialty],
      capacity: 3,
      demo: false,
      ...(supervisorId ? { supervisorId } : {}),
    });
  }
  const registerStarted = now();
  await runConcurrently(registrations.length, 16, async (i) => void (await directory.register(registrations[i]!, t0)));
  return now() - registerStarted;
}

/** Times `picks` assignments (cycling through the specialties), each released at once. */
async function assignment(directory: AgentDirectory, picks: number) {
  const deps: PickDeps = { directory, clock: systemClock, config: { ORCHESTRATION_HEARTBEAT_INTERVAL: 3_600, ORCHESTRATION_AGENT_FAILURE_THRESHOLD: 3 } };
  const times: number[] = [];
  let teamPicks = 0;
  for (let i = -allSpecialties.length; i < picks; i++) {
    const specialty = allSpecialties[Math.abs(i) % allSpecialties.length]!;
    const key = workKeyOf(`bench-${i}`, 1);
    const started = now();
    const { agent, leadId } = await pickAgent(specialty, [], key, deps);
    const ms = now() - started;
    if (!agent) throw new Error(`no ${specialty} agent picked`);
    if (i >= 0) {
      times.push(ms);
      if (agent.supervisorId === leadId) teamPicks += 1;
    }
    await directory.release(agent.id, key);
  }
  return { latency: distribution(times), teamPicks };
}

/** Counts the bus's Kafka publishes (one per batch). */
function countingPublishes(inner: EventBus) {
  let publishes = 0;
  const bus: EventBus = {
    ...inner,
    publish: (topic, messages, headers) => {
      publishes += 1;
      return inner.publish(topic, messages, headers);
    },
  };
  return { bus, count: () => publishes };
}

async function cleanKafka(admin: Admin, prefix: string): Promise<void> {
  const topics = (await admin.listTopics()).filter((t) => t.startsWith(prefix));
  if (topics.length > 0) await admin.deleteTopics({ topics }).catch(() => undefined);
  const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
  if (groups.length > 0) await admin.deleteGroups(groups).catch(() => undefined);
  await admin.disconnect();
}

if (isEntryPoint(import.meta.url)) runAsScript(runMessagesBench);
