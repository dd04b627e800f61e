import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defaultTenant } from '../../shared/domain/scheduling.js';
import { startEmbedded, type Embedded } from './helpers/embedded.js';

/** A user's command takes the path of every event: handleDelivery('control') → processEvent. */
describe('workflow commands delivered like events', () => {
  let api: Embedded;
  beforeAll(async () => {
    api = await startEmbedded();
  });
  afterAll(async () => {
    await api.stop();
  });

  /** A pending workflow nothing else touches (no task.submitted is published for it). */
  const idle = async (id: string) => {
    const input = { id, description: 'idle', priority: 'NORMAL' as const, metadata: {}, idempotencyKey: null, createdAt: new Date().toISOString() };
    await api.runtime.ports.store.createWorkflow({ ...input, tenant: defaultTenant }, []);
    return id;
  };
  const command = (workflowId: string, name: string, key?: string) =>
    fetch(`${api.baseUrl}/v1/workflows/${workflowId}/${name}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(key ? { 'idempotency-key': key } : {}) },
      body: '{}',
    });
  const deadLetters = async () => (await api.runtime.metrics.deadLetters.get()).values.reduce((sum, v) => sum + v.value, 0);

  it('applies a command delivered twice with the same id once', async () => {
    const id = await idle('wf_cmd_twice');
    const first = await command(id, 'pause', 'k1');
    expect([first.status, ((await first.json()) as { status: string }).status]).toEqual([200, 'paused']);
    expect((await command(id, 'resume')).status).toBe(200);
    // The same key again: already processed, so it answers the current view and does not pause again.
    const again = await command(id, 'pause', 'k1');
    expect([again.status, ((await again.json()) as { status: string }).status]).toEqual([200, 'running']);
    expect((await api.runtime.ports.store.getWorkflow(id))?.status).toBe('running');
  });

  it('answers an invalid transition 409 without counting a dead letter', async () => {
    const id = await idle('wf_cmd_invalid');
    const before = await deadLetters();
    const refused = await command(id, 'resume');
    expect(refused.status).toBe(409);
    expect(await refused.json()).toMatchObject({ error: 'invalid_transition' });
    expect(await deadLetters()).toBe(before);
    expect((await api.runtime.ports.store.getWorkflow(id))?.status).toBe('pending');
    expect((await command('wf_cmd_missing', 'cancel')).status).toBe(404);
  });

  it('counts an applied command under the control function, marked processed under its own consumer', async () => {
    const id = await idle('wf_cmd_counted');
    const applied = async () =>
      (await api.runtime.metrics.eventsProcessed.get()).values.find((v) => v.labels.function === 'control' && v.labels.result === 'applied')?.value ?? 0;
    const before = await applied();
    expect((await command(id, 'cancel', 'k-cancel')).status).toBe(200);
    expect(await applied()).toBe(before + 1);
    expect(await api.runtime.ports.store.hasProcessed('control', `cancel:${id}:k-cancel`)).toBe(true);
    expect((await api.runtime.ports.store.getWorkflow(id))?.status).toBe('cancelled');
  });
});
