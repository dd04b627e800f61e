import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createHttpAgent } from './http-agent.js';

/** A fake API: announces its cadences at registration, hands out one piece of work, counts the calls. */
async function fakeApi(announced: { heartbeatIntervalSeconds: number; leaseRenewalSeconds?: number }) {
  const calls: { path: string; body: unknown }[] = [];
  let handedOut = false;
  const server: Server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk: Buffer) => (text += chunk.toString()));
    req.on('end', () => {
      const path = (req.url ?? '').replace(/\?.*$/, '');
      const waitMs = Number(new URL(req.url ?? '', 'http://x').searchParams.get('waitMs') ?? 0);
      calls.push({ path, body: text ? JSON.parse(text) : null });
      const json = (status: number, body: unknown) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));
      if (path === '/v1/agents/register') return json(201, { agent: { id: 'a1' }, ...announced });
      if (path === '/v1/agents/a1/work') {
        // A long poll, like the real API: an empty answer waits up to waitMs.
        if (handedOut) return void setTimeout(() => json(200, { work: [] }), waitMs);
        const work = [
          {
            workflowId: 'wf',
            subtaskId: 's1',
            attempt: 1,
            leaseToken: 7,
            deadline: new Date(Date.now() + 60_000).toISOString(),
            task: { title: 't', description: 'd', specialty: 'data_analyst', inputs: [] },
          },
        ];
        handedOut = true;
        return json(200, { work });
      }
      if (path === '/v1/agents/a1/leases' || path === '/v1/agents/a1/heartbeat') return json(200, { agentId: 'a1', renewed: ['s1'], lost: [] });
      if (path === '/v1/agents/a1/results') return json(202, { accepted: true });
      json(404, { error: 'not_found' });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    calls,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

describe('HTTP agent SDK', () => {
  it('renews the leases of work in hand at the announced lease cadence, apart from its rare heartbeats', async () => {
    const api = await fakeApi({ heartbeatIntervalSeconds: 60, leaseRenewalSeconds: 0.05 });
    cleanups.push(api.close);
    let finish!: () => void;
    const working = new Promise<void>((resolve) => (finish = resolve));
    const agent = await createHttpAgent({
      url: api.url,
      token: 't',
      agentId: 'a1',
      specialties: ['data_analyst'],
      pollWaitMs: 50,
      handle: async () => (await working, { quality: 1, output: null }),
    });
    cleanups.push(() => agent.stop());
    await new Promise((resolve) => setTimeout(resolve, 400));
    const renewals = api.calls.filter((c) => c.path === '/v1/agents/a1/leases');
    // Every 50 ms for ~400 ms; a slow machine may skip a few.
    expect(renewals.length).toBeGreaterThanOrEqual(3);
    expect(renewals[0]!.body).toEqual({ working: [{ subtaskId: 's1', leaseToken: 7 }] });
    expect(api.calls.filter((c) => c.path === '/v1/agents/a1/heartbeat')).toEqual([]);
    finish();
    await agent.stop();
    // Stopped: no renewal reaches the server afterwards (stop() waits for those already sent).
    const renewalCount = () => api.calls.filter((c) => c.path === '/v1/agents/a1/leases').length;
    const after = renewalCount();
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(renewalCount()).toBe(after);
  });

  it('without an announced lease cadence (an older API) renews with the heartbeat only', async () => {
    const api = await fakeApi({ heartbeatIntervalSeconds: 0.05 });
    cleanups.push(api.close);
    let finish!: () => void;
    const working = new Promise<void>((resolve) => (finish = resolve));
    const agent = await createHttpAgent({
      url: api.url,
      token: 't',
      agentId: 'a1',
      specialties: ['data_analyst'],
      pollWaitMs: 50,
      handle: async () => (await working, { quality: 1, output: null }),
    });
    cleanups.push(() => agent.stop());
    await new Promise((resolve) => setTimeout(resolve, 250));
    expect(api.calls.filter((c) => c.path === '/v1/agents/a1/leases')).toEqual([]);
    expect(api.calls.filter((c) => c.path === '/v1/agents/a1/heartbeat').length).toBeGreaterThanOrEqual(2);
    finish();
  });
});
