import { describe, expect, it } from 'vitest';
import { decodeRecord, encodeBinary, headersToStrings, structuredContentType } from '../../shared/adapters/kafka/cloudevents-binding.js';
import { cloudEventSchema, type AnyCloudEvent } from '../../shared/events/envelope.js';
import { parseEvent } from '../../shared/engine/process-event.js';

const event: AnyCloudEvent = {
  specversion: '1.0',
  id: 'evt-1',
  source: 'amas/orchestration',
  type: 'subtask.ready',
  time: '2024-05-01T10:00:00.000Z',
  subject: 'wf-1',
  datacontenttype: 'application/json',
  workflowid: 'wf-1',
  traceparent: '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01',
  data: { workflowId: 'wf-1', nested: { list: [1, 'two', null] } },
};
const asBuffers = (headers: Record<string, string>) => Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));

describe('CloudEvents Kafka binding', () => {
  it('encodes binary mode: each attribute a ce_ header, the content type, the data alone as value', () => {
    const { value, headers } = encodeBinary(event);
    expect(headers).toEqual({
      'content-type': 'application/json',
      ce_specversion: '1.0',
      ce_id: 'evt-1',
      ce_source: 'amas/orchestration',
      ce_type: 'subtask.ready',
      ce_time: '2024-05-01T10:00:00.000Z',
      ce_subject: 'wf-1',
      ce_workflowid: 'wf-1',
      ce_traceparent: event.traceparent,
    });
    expect(JSON.parse(value!)).toEqual(event.data);
  });

  it('round-trips binary mode, whether kafkajs hands headers over as Buffers or strings', () => {
    const { value, headers } = encodeBinary(event);
    expect(decodeRecord(Buffer.from(value!), asBuffers(headers))).toEqual({ value: event, headers: {} });
    expect(decodeRecord(value, headers)).toEqual({ value: event, headers: {} });
  });

  it('keeps caller headers apart from the event, and takes the first of a repeated header', () => {
    const { value, headers } = encodeBinary(event);
    const decoded = decodeRecord(Buffer.from(value!), { ...asBuffers(headers), traceparent: [Buffer.from('a'), 'b'], gone: undefined });
    expect(decoded).toEqual({ value: event, headers: { traceparent: 'a' } });
    expect(headersToStrings(undefined)).toEqual({});
  });

  it('reads structured mode: the whole event is the value', () => {
    const decoded = decodeRecord(Buffer.from(JSON.stringify(event)), { 'content-type': Buffer.from(`${structuredContentType}; charset=utf-8`), x: 'y' });
    expect(decoded).toEqual({ value: event, headers: { x: 'y' } });
    expect(cloudEventSchema.parse(decoded.value)).toEqual(event);
  });

  it('keeps data that is not JSON as text, and an event without data as no data', () => {
    const text = decodeRecord(Buffer.from('plain words'), { ce_specversion: '1.0', ce_id: 'x', 'content-type': 'text/plain' });
    expect(text.value).toEqual({ specversion: '1.0', id: 'x', datacontenttype: 'text/plain', data: 'plain words' });
    const { value, headers } = encodeBinary({ ...event, data: undefined });
    expect(value).toBeNull();
    expect(decodeRecord(null, headers).value).toEqual({ ...event, data: undefined });
  });

  it('hands garbage over as its raw text, which the runtime rejects with a reason', () => {
    const garbage = Buffer.from([0xff, 0xfe, 0x00, 0x7b]);
    const bare = decodeRecord(garbage, undefined);
    expect(bare).toEqual({ value: garbage.toString(), headers: {} });
    expect(() => parseEvent(bare.value)).toThrow(/invalid event/);
    // Binary headers over a value that is not the JSON they announce: the text, with every header kept.
    const lying = decodeRecord(Buffer.from('{not json'), { ce_specversion: '1.0', 'content-type': 'application/json' });
    expect(lying).toEqual({ value: '{not json', headers: { ce_specversion: '1.0', 'content-type': 'application/json' } });
    const structured = decodeRecord(Buffer.from('{not json'), { 'content-type': structuredContentType });
    expect(structured.value).toBe('{not json');
  });

  it('passes JSON that is no CloudEvent through for the parser to name what is missing', () => {
    const decoded = decodeRecord(Buffer.from('{"hello":"world"}'), {});
    expect(decoded.value).toEqual({ hello: 'world' });
    expect(() => parseEvent(decoded.value)).toThrow(/invalid event: .*type/);
  });
});
