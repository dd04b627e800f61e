import { describe, expect, it } from 'vitest';
import type { AgentRecord } from '../../shared/ports/index.js';
import { assignmentScore, isHealthy, rankCandidates, type HealthRules } from './score.js';

const NOW = 1_000_000;
const rules: HealthRules = { now: NOW, heartbeatTimeoutMs: 180_000, failureThreshold: 3 };

const agent = (id: string, extra: Partial<AgentRecord> = {}): AgentRecord => ({
  id,
  layer: 'SPECIALIST',
  specialties: ['data_analyst'],
  capacity: 4,
  demo: false,
  status: 'AVAILABLE',
  load: 0,
  completed: 10,
  failed: 0,
  consecutiveFailures: 0,
  averageQuality: 0.9,
  averageDurationMs: 60_000,
  lastHeartbeat: NOW,
  registeredAt: 0,
  ...extra,
});

describe('assignmentScore', () => {
  it('is 0.3 × (1 − load) + 0.3 × quality + 0.25 × success rate + 0.15 × speed', () => {
    // load 1/4, quality 0.8, 6 of 8 succeeded, 2-minute average → speed 1 / (1 + 2) = 1/3
    const a = agent('a', { load: 1, averageQuality: 0.8, completed: 6, failed: 2, averageDurationMs: 120_000 });
    expect(assignmentScore(a)).toBeCloseTo(0.3 * 0.75 + 0.3 * 0.8 + 0.25 * 0.75 + 0.15 * (1 / 3), 12);
  });

  it('assumes an average record for an agent without history', () => {
    const fresh = agent('fresh', { completed: 0, failed: 0, averageQuality: 0, averageDurationMs: 0 });
    expect(assignmentScore(fresh)).toBeCloseTo(0.3 + 0.3 * 0.8 + 0.25 + 0.15 * 0.5, 12);
  });

  it('moves with each factor in the right direction', () => {
    const base = assignmentScore(agent('a'));
    expect(assignmentScore(agent('a', { load: 2 }))).toBeLessThan(base);
    expect(assignmentScore(agent('a', { averageQuality: 0.95 }))).toBeGreaterThan(base);
    expect(assignmentScore(agent('a', { failed: 5 }))).toBeLessThan(base);
    expect(assignmentScore(agent('a', { averageDurationMs: 10_000 }))).toBeGreaterThan(base);
  });
});

describe('isHealthy', () => {
  it('rejects FAILED, OFFLINE and MAINTENANCE agents, stale heartbeats and agents at the failure threshold', () => {
    expect(isHealthy(agent('ok'), rules)).toBe(true);
    expect(isHealthy(agent('busy', { status: 'BUSY' }), rules)).toBe(true);
    for (const status of ['FAILED', 'OFFLINE', 'MAINTENANCE'] as const) expect(isHealthy(agent('x', { status }), rules)).toBe(false);
    expect(isHealthy(agent('edge', { lastHeartbeat: NOW - 180_000 }), rules)).toBe(true);
    expect(isHealthy(agent('stale', { lastHeartbeat: NOW - 180_001 }), rules)).toBe(false);
    expect(isHealthy(agent('two', { consecutiveFailures: 2 }), rules)).toBe(true);
    expect(isHealthy(agent('three', { consecutiveFailures: 3 }), rules)).toBe(false);
  });
});

describe('rankCandidates', () => {
  it('orders healthy agents with a free slot by score, best first, ties by id', () => {
    const ranked = rankCandidates(
      [
        agent('loaded', { load: 3 }),
        agent('slow', { averageDurationMs: 600_000 }),
        agent('b-best', { averageQuality: 0.99 }),
        agent('a-best', { averageQuality: 0.99 }),
        agent('full', { load: 4 }),
        agent('failed', { status: 'FAILED', averageQuality: 1 }),
        agent('stale', { lastHeartbeat: 0, averageQuality: 1 }),
        agent('flaky', { consecutiveFailures: 3, averageQuality: 1 }),
      ],
      rules,
      [],
    );
    expect(ranked.map((a) => a.id)).toEqual(['a-best', 'b-best', 'slow', 'loaded']);
  });

  it('puts avoided agents last instead of dropping them', () => {
    const ranked = rankCandidates([agent('best', { averageQuality: 1 }), agent('worse', { averageQuality: 0.5 })], rules, ['best']);
    expect(ranked.map((a) => a.id)).toEqual(['worse', 'best']);
  });
});
