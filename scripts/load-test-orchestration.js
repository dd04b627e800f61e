/* global __ENV */
// k6 load test of the orchestration API: `k6 run scripts/load-test-orchestration.js`
// (BASE_URL defaults to http://localhost:8000). Submits tasks at a constant arrival rate, follows a
// sample of workflows, and fails the run when the latency thresholds are not met.
import http from 'k6/http';
import { check, sleep } from 'k6';
import { Trend, Counter } from 'k6/metrics';

const BASE_URL = __ENV.BASE_URL || 'http://localhost:8000';
const RATE = Number(__ENV.RATE || 20);
const DURATION = __ENV.DURATION || '2m';

const submitLatency = new Trend('amas_submit_latency', true);
const backpressure = new Counter('amas_backpressure_429');

export const options = {
  scenarios: {
    submit: {
      executor: 'constant-arrival-rate',
      rate: RATE,
      timeUnit: '1s',
      duration: DURATION,
      preAllocatedVUs: 20,
      maxVUs: 100,
      exec: 'submit',
    },
    read: {
      executor: 'constant-vus',
      vus: 5,
      duration: DURATION,
      exec: 'read',
    },
  },
  thresholds: {
    http_req_failed: ['rate<0.01'],
    'http_req_duration{scenario:submit}': ['p(95)<500', 'p(99)<1000'],
    'http_req_duration{scenario:read}': ['p(95)<300'],
    checks: ['rate>0.99'],
  },
};

const descriptions = [
  'Research AI market trends and create presentation',
  'Research competitor pricing and create report',
  'Analyse customer churn data and recommend actions',
  'Write and review API documentation for the billing service',
];

export function submit() {
  const description = descriptions[Math.floor(Math.random() * descriptions.length)];
  const res = http.post(`${BASE_URL}/v1/tasks`, JSON.stringify({ description }), {
    headers: { 'content-type': 'application/json' },
    tags: { name: 'POST /v1/tasks' },
    responseCallback: http.expectedStatuses(200, 202, 429),
  });
  submitLatency.add(res.timings.duration);
  if (res.status === 429) backpressure.add(1);
  check(res, { 'task accepted or back-pressured': (r) => r.status === 202 || r.status === 200 || r.status === 429 });
  if (res.status === 202 && Math.random() < 0.1) {
    const { workflowId } = res.json();
    const wf = http.get(`${BASE_URL}/v1/workflows/${workflowId}`, { tags: { name: 'GET /v1/workflows/:id' } });
    check(wf, { 'workflow readable': (r) => r.status === 200 });
  }
}

export function read() {
  const list = http.get(`${BASE_URL}/v1/workflows?limit=20`, { tags: { name: 'GET /v1/workflows' } });
  check(list, { 'list ok': (r) => r.status === 200 });
  const health = http.get(`${BASE_URL}/health/orchestration`, { tags: { name: 'GET /health/orchestration' } });
  check(health, { healthy: (r) => r.status === 200 });
  sleep(1);
}
