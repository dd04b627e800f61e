import type { AnyCloudEvent } from '../../events/envelope.js';

/**
 * The CloudEvents Kafka protocol binding (v1.0), pure: no kafkajs import, so it is unit-tested
 * alone. We write binary mode (attributes in `ce_*` headers, the value is the JSON of `data`), the
 * mode Knative's KafkaSource reads; we read binary and structured mode alike.
 */

export type KafkaHeaderValue = Buffer | string | (Buffer | string)[] | undefined;
export type KafkaHeaders = Record<string, KafkaHeaderValue>;

export const structuredContentType = 'application/cloudevents+json';
const jsonContentType = 'application/json';
const prefix = 'ce_';

export interface EncodedRecord {
  value: string | null;
  headers: Record<string, string>;
}

/** Binary mode: every attribute but `data` and `datacontenttype` becomes a `ce_<name>` header. */
export function encodeBinary(event: AnyCloudEvent): EncodedRecord {
  const headers: Record<string, string> = { 'content-type': event.datacontenttype ?? jsonContentType };
  for (const [name, attribute] of Object.entries(event)) {
    if (name === 'data' || name === 'datacontenttype' || attribute === undefined || attribute === null) continue;
    headers[`${prefix}${name}`] = String(attribute);
  }
  return { value: event.data === undefined ? null : JSON.stringify(event.data), headers };
}

/** Header values as kafkajs hands them over (Buffer, string, or a repeated header), as strings. */
export function headersToStrings(headers: KafkaHeaders | undefined): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, raw] of Object.entries(headers ?? {})) {
    const value = Array.isArray(raw) ? raw[0] : raw;
    if (value !== undefined) out[name] = value.toString();
  }
  return out;
}

export interface DecodedRecord {
  /** The CloudEvent (binary or structured), parsed JSON of another shape, or the raw text. */
  value: unknown;
  /** The record's headers that are not part of the binding (caller metadata). */
  headers: Record<string, string>;
}

/**
 * Rebuilds what a consumer sees. Nothing is validated here: a value that is no CloudEvent comes
 * back as it is (parsed JSON, else the raw text) so the runtime's parser names what is wrong and
 * dead-letters it, instead of this layer dropping it silently.
 */
export function decodeRecord(value: Buffer | string | null, rawHeaders: KafkaHeaders | undefined): DecodedRecord {
  const headers = headersToStrings(rawHeaders);
  const text = value === null ? null : value.toString();
  const contentType = headers['content-type'];

  if (headers[`${prefix}specversion`] !== undefined) {
    const event: Record<string, unknown> = {};
    const rest: Record<string, string> = {};
    for (const [name, header] of Object.entries(headers)) {
      if (name.startsWith(prefix)) event[name.slice(prefix.length)] = header;
      else if (name !== 'content-type') rest[name] = header;
    }
    if (contentType !== undefined) event.datacontenttype = contentType;
    if (text === null) return { value: event, headers: rest };
    if (!isJson(contentType)) return { value: { ...event, data: text }, headers: rest };
    const data = tryParse(text);
    // Binary headers over a value that is not the JSON it claims: hand over the text as it is.
    return data.ok ? { value: { ...event, data: data.value }, headers: rest } : { value: text, headers };
  }

  if (text === null) return { value: null, headers };
  const parsed = tryParse(text);
  if (!parsed.ok) return { value: text, headers };
  if (contentType?.startsWith(structuredContentType)) {
    const { 'content-type': _structured, ...rest } = headers;
    return { value: parsed.value, headers: rest };
  }
  return { value: parsed.value, headers };
}

const isJson = (contentType: string | undefined): boolean => contentType === undefined || /^application\/(?:[\w.+-]+\+)?json\b/.test(contentType);

function tryParse(text: string): { ok: true; value: unknown } | { ok: false } {
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch {
    return { ok: false };
  }
}
