import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyCloudEvent } from '../../shared/events/envelope.js';
import { startEmbedded, type Embedded } from './helpers/embedded.js';

interface Letter {
  id: string;
  topic: string;
  consumer: string;
  reason: string;
  code: string;
  original: unknown;
  redrivenAt: string | null;
}
type Letters = { deadLetters: Letter[]; total: number };

const until = async <T>(what: string, read: () => Promise<T>, done: (t: T) => boolean, timeoutMs = 10_000): Promise<T> => {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: ${JSON.stringify(value)}`);
    await new Promise((r) => setTimeout(r, 25));
  }
};

describe('dead letters API', () => {
  let e: Embedded;
  beforeAll(async () => {
    e = await startEmbedded();
  });
  afterAll(async () => {
    await e.stop();
  });

  it('lists a poison record with its reason, and re-drives it to its topic', async () => {
    const poison = { specversion: '1.0', id: 'poison-1', source: 'test', type: 'task.submitted', data: { workflowId: 'wf-x' } };
    await e.bus.publish('amas.tasks', [{ key: 'wf-x', event: poison as unknown as AnyCloudEvent }]);
    const listed = await until(
      'the dead letter',
      async () => (await e.get<Letters>('/v1/dead-letters')).body,
      (b) => b.total === 1,
    );
    const letter = listed.deadLetters[0]!;
    expect(letter).toMatchObject({ topic: 'amas.tasks', consumer: 'decompose', original: poison, redrivenAt: null });
    expect(letter.reason).toMatch(/description/); // names what is wrong: the missing field

    // Filtered by topic, with or without .dlq; an unknown topic is a 400 naming the parameter.
    expect((await e.get<Letters>('/v1/dead-letters?topic=amas.tasks.dlq')).body.total).toBe(1);
    expect((await e.get<Letters>('/v1/dead-letters?topic=amas.workflows')).body.total).toBe(0);
    const bad = await e.get<{ issues: { path: string }[] }>('/v1/dead-letters?topic=nope');
    expect(bad.status).toBe(400);
    expect(bad.body.issues[0]!.path).toBe('topic');

    const redriven = await e.post<{ id: string; redrivenAt: string }>(`/v1/dead-letters/${letter.id}/redrive`);
    expect(redriven.status).toBe(202);
    // Still poison: it comes back as a second dead letter, and the first one says when it was re-driven.
    const after = await until(
      'the re-driven letter',
      async () => (await e.get<Letters>('/v1/dead-letters')).body,
      (b) => b.total === 2,
    );
    expect(after.deadLetters.find((l) => l.id === letter.id)!.redrivenAt).toBe(redriven.body.redrivenAt);
    expect(after.deadLetters.find((l) => l.id !== letter.id)!.original).toEqual(poison);

    expect((await e.post(`/v1/dead-letters/nope/redrive`)).status).toBe(404);
  });
});
