// What one event costs in CPU as bytes and objects, next to raw baselines in the same process: the
// zod parse of every catalog type against JSON.parse of the same event, the CloudEvents Kafka binary
// decode/encode against a bare header + JSON decode/encode, and the serialisations an event goes
// through more than once on its path (consume → parse → handler → outbox row → publish). No server.
import { encodeBinary, decodeRecord, headersToStrings, type KafkaHeaders } from '../shared/adapters/kafka/cloudevents-binding.js';
import { eventDefinitions, orchestrationEventSchema, type OrchestrationEvent } from '../shared/events/catalog.js';
import { catalogSamples } from './bytes-events.js';
import { benchOptions, createReport, isEntryPoint, printReport, type BenchOptions, type Report } from './lib.js';

let sink = 0;
/** Microseconds per call of `fn`, the best of `rounds` timed loops after a warm-up (the floor is what the code costs; the rest is the box). */
export function microsPerCall(fn: () => unknown, iterations: number, rounds = 5): number {
  for (let i = 0; i < Math.min(iterations, 2_000); i += 1) sink += fn() === undefined ? 0 : 1;
  let best = Infinity;
  for (let round = 0; round < rounds; round += 1) {
    const started = process.hrtime.bigint();
    for (let i = 0; i < iterations; i += 1) sink += fn() === undefined ? 0 : 1;
    best = Math.min(best, Number(process.hrtime.bigint() - started) / 1_000 / iterations);
  }
  return best;
}

const toKafkaHeaders = (headers: Record<string, string>): KafkaHeaders => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));

/** What a consumer with no binding would do: header bytes to strings, the value's JSON parsed. */
const rawDecode = (value: Buffer, headers: KafkaHeaders) => ({ headers: headersToStrings(headers), data: JSON.parse(value.toString()) as unknown });

export async function runBytesBench(options: BenchOptions): Promise<Report> {
  const n = options.quick ? 2_000 : 20_000;
  const report = createReport(`Bytes per event: zod, CloudEvents binding, re-serialisation${options.quick ? ' (--quick)' : ''}`);
  const samples = catalogSamples();
  const definitionOf = new Map(eventDefinitions.map((d) => [d.type, d]));

  // 1. zod parse per type, against JSON.parse of the same event's text.
  const rows: string[] = [];
  for (const event of samples) {
    const text = JSON.stringify(event);
    const value = JSON.parse(text) as unknown;
    const parsed = orchestrationEventSchema.safeParse(value);
    if (!parsed.success) throw new Error(`sample ${event.type} is invalid: ${parsed.error.message}`);
    const schema = definitionOf.get(event.type)!.schema;
    const json = microsPerCall(() => JSON.parse(text), n);
    const union = microsPerCall(() => orchestrationEventSchema.safeParse(value), n);
    const own = microsPerCall(() => schema.safeParse(value), n);
    report.figure(`zod.${event.type}`, `parseEvent ${event.type} (${text.length} B)`, union, 'µs');
    report.ratio(`zod.${event.type}`, `parseEvent / JSON.parse ${event.type}`, union, json);
    rows.push(
      `${event.type.padEnd(20)} ${String(text.length).padStart(6)} B  JSON.parse ${json.toFixed(2).padStart(6)} µs  parseEvent ${union.toFixed(2).padStart(6)} µs  own schema ${own.toFixed(2).padStart(6)} µs  ratio ${(union / json).toFixed(1).padStart(5)}x`,
    );
  }

  // 2. The Kafka binding on the two commonest events of a subtask (ready: small; completed: carries output).
  for (const type of ['subtask.ready', 'subtask.completed'] as const) {
    const event = samples.find((e) => e.type === type)!;
    const encoded = encodeBinary(event);
    const value = Buffer.from(encoded.value ?? '');
    const headers = toKafkaHeaders({ traceparent: event.traceparent ?? '', ...encoded.headers });
    const raw = microsPerCall(() => rawDecode(value, headers), n);
    const decode = microsPerCall(() => decodeRecord(value, headers), n);
    const consume = microsPerCall(() => orchestrationEventSchema.safeParse(decodeRecord(value, headers).value), n);
    report.figure(`decode.raw.${type}`, `raw header+JSON decode ${type}`, raw, 'µs');
    report.figure(`decode.binary.${type}`, `CloudEvents binary decode ${type}`, decode, 'µs');
    report.figure(`decode.parse.${type}`, `binary decode + parseEvent ${type}`, consume, 'µs');
    report.ratio(`decode.${type}`, `binary decode / raw decode ${type}`, decode, raw);
    report.ratio(`consume.${type}`, `decode + parseEvent / raw decode ${type}`, consume, raw);
    const rawEncode = microsPerCall(() => JSON.stringify(event.data), n);
    const binary = microsPerCall(() => encodeBinary(event), n);
    report.figure(`encode.binary.${type}`, `CloudEvents binary encode ${type}`, binary, 'µs');
    report.ratio(`encode.${type}`, `binary encode / JSON.stringify(data) ${type}`, binary, rawEncode);
  }

  // 3. Serialisations one emitted event goes through, and what each repeat costs.
  const completed = samples.find((e) => e.type === 'subtask.completed')!;
  const ready = samples.find((e) => e.type === 'subtask.ready')!;
  for (const event of [ready, completed] as OrchestrationEvent[]) {
    const t = event.type;
    const eventText = JSON.stringify(event);
    // a) commit: the event is stringified inside amas_commit's jsonb argument, b) published from memory: encodeBinary stringifies its data again.
    const commitOnce = microsPerCall(() => JSON.stringify(event), n);
    const publishAgain = microsPerCall(() => encodeBinary(event), n);
    report.figure(`path.commit.${t}`, `outbox write: JSON.stringify(event) ${t}`, commitOnce, 'µs');
    report.figure(`path.publish.${t}`, `claimed publish: encodeBinary again ${t}`, publishAgain, 'µs');
    // c) relay: node-postgres JSON.parses the jsonb row, encodeBinary stringifies its data once more;
    //    selecting event - 'data' and (event->'data')::text would hand the data's text through.
    const envelopeText = JSON.stringify({ ...event, data: undefined });
    const dataText = JSON.stringify(event.data);
    const relayNow = microsPerCall(() => encodeBinary(JSON.parse(eventText) as OrchestrationEvent), n);
    const relayPassThrough = microsPerCall(() => {
      const { headers } = encodeBinary({ ...(JSON.parse(envelopeText) as OrchestrationEvent), data: undefined });
      return { value: dataText, headers };
    }, n);
    report.figure(`path.relay.${t}`, `relay: parse jsonb row + encodeBinary ${t}`, relayNow, 'µs');
    report.figure(`path.relay-text.${t}`, `relay with data passed as text ${t}`, relayPassThrough, 'µs');
    report.ratio(`path.relay.${t}`, `relay re-serialise / pass-through ${t}`, relayNow, relayPassThrough);
    // d) the embedded in-process log copies every record as JSON text (stringify on publish, parse per delivery).
    const memoryCopy = microsPerCall(() => JSON.parse(JSON.stringify(event)) as unknown, n);
    report.figure(`path.memory.${t}`, `in-process log copy (stringify+parse) ${t}`, memoryCopy, 'µs');
  }
  report.note(`per type (best of 5 loops of ${n}):\n    ${rows.join('\n    ')}`);
  report.note(`checksum ${sink % 10}`);
  printReport(report, options.print);
  return report;
}

if (isEntryPoint(import.meta.url)) {
  runBytesBench(benchOptions()).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
