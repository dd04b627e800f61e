import type { IncomingHttpHeaders } from 'node:http';
import { InvalidEventError } from '../errors.js';

/**
 * CloudEvents 1.0 HTTP protocol binding, both modes: structured (`application/cloudevents+json`,
 * the whole event in the body) and binary (`ce-*` headers, `data` in the body).
 */
export function cloudEventFromHttp(headers: IncomingHttpHeaders, body: unknown): unknown {
  const contentType = String(headers['content-type'] ?? '').toLowerCase();
  if (contentType.startsWith('application/cloudevents+json')) return body;
  if (contentType.startsWith('application/cloudevents-batch+json')) {
    throw new InvalidEventError('batched CloudEvents are not accepted; send one event per request');
  }
  if (headers['ce-specversion'] === undefined) {
    throw new InvalidEventError('not a CloudEvent: expected ce-* headers (binary mode) or content-type application/cloudevents+json');
  }
  const event: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (!name.startsWith('ce-') || value === undefined) continue;
    event[name.slice(3)] = Array.isArray(value) ? value.join(',') : value;
  }
  if (contentType) event.datacontenttype = contentType.split(';')[0];
  event.data = body;
  return event;
}

/** Binary-mode headers for an outgoing CloudEvent (the reverse of the above). */
export function cloudEventToHttpHeaders(event: Record<string, unknown>): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const [name, value] of Object.entries(event)) {
    if (name === 'data' || name === 'datacontenttype' || value === undefined) continue;
    headers[`ce-${name}`] = String(value);
  }
  return headers;
}
