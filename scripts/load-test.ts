/**
 * A bounded load test with Node's built-in fetch, for machines without k6:
 *   npx tsx scripts/load-test.ts [--url http://127.0.0.1:8000] [--requests 500] [--concurrency 16] [--seconds 30]
 * Only loopback targets are accepted. Prints requests/s and p50/p99 latency per route.
 */
import { parseArgs } from 'node:util';

const { values } = parseArgs({
  options: {
    url: { type: 'string', default: 'http://127.0.0.1:8000' },
    requests: { type: 'string', default: '500' },
    concurrency: { type: 'string', default: '16' },
    seconds: { type: 'string', default: '30' },
  },
});
const base = new URL(values.url);
const total = Math.min(Number(values.requests), 100_000);
const concurrency = Math.max(1, Math.min(Number(values.concurrency), 256));
const deadline = Date.now() + Math.min(Number(values.seconds), 600) * 1000;

const loopback = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|localhost|\[::1\])$/;
if (!loopback.test(base.hostname)) {
  process.stderr.write(`refusing ${base.hostname}: this load test only targets loopback addresses\n`);
  process.exit(2);
}

type Sample = { route: string; ms: number; status: number };
const samples: Sample[] = [];
const workflowIds: string[] = [];

async function timed(route: string, path: string, init?: RequestInit): Promise<Response | undefined> {
  const started = performance.now();
  try {
    const res = await fetch(new URL(path, base), { ...init, signal: AbortSignal.timeout(10_000) });
    const body = await res.text();
    samples.push({ route, ms: performance.now() - started, status: res.status });
    if (route === 'POST /v1/tasks' && res.status === 202) workflowIds.push((JSON.parse(body) as { workflowId: string }).workflowId);
    return res;
  } catch {
    samples.push({ route, ms: performance.now() - started, status: 0 });
    return undefined;
  }
}

let issued = 0;
async function worker(): Promise<void> {
  while (issued < total && Date.now() < deadline) {
    const n = issued++;
    if (n % 4 === 3 && workflowIds.length > 0) await timed('GET /v1/workflows/:id', `/v1/workflows/${workflowIds[n % workflowIds.length]}`);
    else
      await timed('POST /v1/tasks', '/v1/tasks', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ description: `Load test task ${n}: research market trends and create a report` }),
      });
  }
}

const quantile = (sorted: number[], q: number): number => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;

const started = performance.now();
await Promise.all(Array.from({ length: concurrency }, () => worker()));
const seconds = (performance.now() - started) / 1000;

const lines = [
  `${samples.length} requests in ${seconds.toFixed(2)} s: ${(samples.length / seconds).toFixed(1)} req/s (concurrency ${concurrency}, ${base.origin})`,
];
for (const route of [...new Set(samples.map((s) => s.route))]) {
  const of = samples.filter((s) => s.route === route);
  const ms = of.map((s) => s.ms).sort((a, b) => a - b);
  const counts = new Map<number, number>();
  for (const s of of) counts.set(s.status, (counts.get(s.status) ?? 0) + 1);
  const statuses = [...counts].map(([status, n]) => `${status}x${n}`).join(' ');
  lines.push(`  ${route.padEnd(24)} n=${of.length}  p50=${quantile(ms, 0.5).toFixed(1)} ms  p99=${quantile(ms, 0.99).toFixed(1)} ms  status ${statuses}`);
}
process.stdout.write(`${lines.join('\n')}\n`);
process.exit(samples.some((s) => s.status === 0 || s.status >= 500) ? 1 : 0);
