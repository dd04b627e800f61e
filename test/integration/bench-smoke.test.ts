// The benchmarks run end to end at a tiny volume against the real servers and report every figure
// they promise. Nothing here asserts speed: the figures only have to exist, be finite and positive.
import { describe, expect, it } from 'vitest';
import { runKafkaBench } from '../../bench/kafka-pipeline.js';
import type { Report } from '../../bench/lib.js';
import { runStateBench } from '../../bench/state.js';
import { runFloorBench } from '../../bench/floor.js';
import { runSqlScaleBench } from '../../bench/sql-scale.js';

async function quick(main: (options: { quick: boolean; print: (line: string) => void }) => Promise<Report>) {
  const lines: string[] = [];
  const report = await main({ quick: true, print: (line) => lines.push(line) });
  return { report, output: lines.join('\n') };
}

function expectSound(report: Report, output: string, figureKeys: string[], ratioKeys: string[]): void {
  const figures = new Map(report.figures.map((f) => [f.key, f.value]));
  const ratios = new Map(report.ratios.map((r) => [r.key, r.value]));
  expect([...figures.keys()]).toEqual(expect.arrayContaining(figureKeys));
  expect([...ratios.keys()]).toEqual(expect.arrayContaining(ratioKeys));
  // The breakdowns are differences of timestamps (Kafka may hand a record to the consumer before the
  // producer's ack arrives), so they only have to be finite; the headline figures must be positive.
  for (const { key, value } of [...report.figures, ...report.ratios]) expect(Number.isFinite(value), `${key} = ${value}`).toBe(true);
  for (const key of figureKeys) expect(figures.get(key), key).toBeGreaterThan(0);
  for (const key of ratioKeys) expect(ratios.get(key), key).toBeGreaterThan(0);
  // Every figure and ratio is printed, with its number.
  for (const { label } of [...report.figures, ...report.ratios])
    expect(output).toMatch(new RegExp(`${label.trim().replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\s+[\\d,.]+`));
}

describe('benchmarks (--quick)', () => {
  it('kafka-pipeline reports raw, adapter and pipeline figures with their ratios and targets', async () => {
    const { report, output } = await quick(runKafkaBench);
    expectSound(
      report,
      output,
      [
        'raw.rt.p50',
        'raw.rt.p99',
        'bus.rt.p50',
        'raw.tp',
        'bus.tp',
        'pipe.step.mean',
        'pipe.step.p50',
        'pipe.step.p99',
        'pipe.critical',
        'pipe.wf',
        'pipe.events',
        'pipe.records',
        // Machine CPU per event split by owner: the functions' process and PostgreSQL always work.
        'pipe.machine.node',
        'pipe.machine.postgres',
        // --quick compares the deployed keys (16) record at a time and in batches; a full run adds keys 4.
        ...['k16', 'k16b'].flatMap((tag) => ['p50', 'p99', 'machine', 'events', 'wf'].map((figure) => `cmp.${tag}.${figure}`)),
      ],
      ['step/rt', 'step-mean/rt', 'bus-rt/rt', 'bus/raw', 'events/raw', 'cmp.k16.p50/rt', 'cmp.k16.p99/rt', 'cmp.k16b.p50/rt', 'cmp.k16b.p99/rt'],
    );
    expect(report.targets.map((t) => t.label)).toEqual([
      'per-step latency <= 3x raw round trip',
      '>= 10,000 events/s through one broker (adapter)',
      '>= 10,000 events/s through one broker (orchestrator)',
      'whole-machine CPU per function event <= 0.8 ms',
      '>= 150 workflows/s',
    ]);
    expect(output.match(/\[(PASS|MISS)\]/g)).toHaveLength(5);
    expect(output).toMatch(/keys 16, batches of \d+\s+\|/);
  }, 120_000);

  it('state reports store and raw rates for PostgreSQL, PGlite and Redis with their ratios', async () => {
    const { report, output } = await quick(runStateBench);
    expectSound(
      report,
      output,
      ['pg.raw.c1', 'pg.store.c1', 'pg.raw.c8', 'pg.store.c8', 'pglite.store.c1', 'redis.raw.c1', 'redis.store.c1', 'redis.raw.c8', 'redis.store.c8'],
      ['pg.c1', 'pg.c8', 'pglite/pg', 'redis.c1', 'redis.c8'],
    );
  }, 40_000);

  it('floor reports the CPU per hop of raw Kafka hops, durable commits and batched commits', async () => {
    const { report, output } = await quick(runFloorBench);
    const modes = ['hop', 'commit', 'batch'];
    expectSound(
      report,
      output,
      // The durable modes cost the node process and PostgreSQL something (split from /proc/<pid>/stat).
      [...modes.flatMap((mode) => [`floor.${mode}.cpu`, `floor.${mode}.rate`]), 'floor.commit.cpu.node', 'floor.commit.cpu.postgres'],
      ['floor.commit/hop', 'floor.batch/hop'],
    );
    expect(output.match(/\[(PASS|MISS)\]/g)).toHaveLength(1);
  }, 120_000);

  it("sql-scale reports a group commit's cost per call for both versions of amas_commit_set at each size", async () => {
    const { report, output } = await quick(runSqlScaleBench);
    const sizes = [1000, 4000];
    expectSound(
      report,
      output,
      sizes.flatMap((rows) => [`scale.${rows}.first`, `scale.${rows}.current`]),
      sizes.map((rows) => `scale.${rows}.first/current`),
    );
  }, 60_000);
});
