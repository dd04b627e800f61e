import { pathToFileURL } from 'node:url';
import { spawnSync } from 'node:child_process';
import { unsetV8Flags } from '../shared/runtime/node-flags.js';

/**
 * Shared helpers of the benchmarks. Every benchmark reports figures next to a raw baseline measured
 * in the same process, and ratios between them: on a small shared machine only the ratios mean much.
 */

export interface BenchOptions {
  /** Tiny volumes, for the smoke test and a first look. */
  quick: boolean;
  /** Where the report goes (default stdout). */
  print: (line: string) => void;
}

export function benchOptions(argv: readonly string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): BenchOptions {
  const quick = argv.includes('--quick') || env.BENCH_QUICK === '1';
  return { quick, print: (line) => console.log(line) };
}

/** True when `moduleUrl` is the script node was started with (so importing a bench never runs it). */
export const isEntryPoint = (moduleUrl: string): boolean => process.argv[1] !== undefined && moduleUrl === pathToFileURL(process.argv[1]).href;

export const now = (): number => performance.now();

/** Wall-clock milliseconds with sub-millisecond resolution, comparable across the whole process. */
export const wallClock = (): number => performance.timeOrigin + performance.now();

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank]!;
}

export const mean = (values: readonly number[]): number => (values.length === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / values.length);

export interface Distribution {
  n: number;
  mean: number;
  p50: number;
  p99: number;
}

export const distribution = (values: readonly number[]): Distribution => ({
  n: values.length,
  mean: mean(values),
  p50: percentile(values, 50),
  p99: percentile(values, 99),
});

/** Runs `fn` with at most `concurrency` calls in flight until `count` calls resolved; returns elapsed ms. */
export async function runConcurrently(count: number, concurrency: number, fn: (index: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = now();
  const worker = async () => {
    while (next < count) await fn(next++);
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, count) }, worker));
  return now() - started;
}

/** Repeats `fn` for `ms` milliseconds with `concurrency` loops; returns completed calls per second. */
export async function opsPerSecond(ms: number, concurrency: number, fn: (worker: number) => Promise<void>): Promise<number> {
  let done = 0;
  const started = now();
  const deadline = started + ms;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (now() < deadline) {
        await fn(worker);
        done += 1;
      }
    }),
  );
  return (done * 1000) / (now() - started);
}

export async function waitUntil(condition: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = now() + timeoutMs;
  while (!condition()) {
    if (now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** One measured figure; `key` is stable for programs (the smoke test), `label` is for people. */
export interface Figure {
  key: string;
  label: string;
  value: number;
  unit: string;
}

export interface Ratio {
  key: string;
  label: string;
  /** The measured figure over its raw baseline (for latencies > 1 is slower; for rates < 1 is slower). */
  value: number;
}

export interface Target {
  label: string;
  met: boolean;
  detail: string;
}

export interface Report {
  title: string;
  figures: Figure[];
  ratios: Ratio[];
  targets: Target[];
  notes: string[];
}

export function createReport(title: string): Report & {
  figure(key: string, label: string, value: number, unit: string): number;
  ratio(key: string, label: string, value: number, baseline: number): number;
  target(label: string, met: boolean, detail: string): void;
  note(text: string): void;
} {
  const report: Report = { title, figures: [], ratios: [], targets: [], notes: [] };
  return {
    ...report,
    figure(key, label, value, unit) {
      report.figures.push({ key, label, value, unit });
      return value;
    },
    ratio(key, label, value, baseline) {
      const ratio = value / baseline;
      report.ratios.push({ key, label, value: ratio });
      return ratio;
    },
    target(label, met, detail) {
      report.targets.push({ label, met, detail });
    },
    note(text) {
      report.notes.push(text);
    },
  };
}

const format = (value: number): string =>
  !Number.isFinite(value) ? String(value) : Math.abs(value) >= 100 ? Math.round(value).toLocaleString('en-US') : value.toFixed(Math.abs(value) >= 10 ? 1 : 2);

export function printReport(report: Report, print: (line: string) => void): void {
  const width = Math.max(...report.figures.map((f) => f.label.length), ...report.ratios.map((r) => r.label.length), 20);
  print(`\n=== ${report.title} ===`);
  print('figures');
  for (const f of report.figures) print(`  ${f.label.padEnd(width)}  ${format(f.value).padStart(10)} ${f.unit}`);
  print('ratios (measured / raw baseline, same run)');
  for (const r of report.ratios) print(`  ${r.label.padEnd(width)}  ${format(r.value).padStart(10)} x`);
  if (report.targets.length > 0) print('targets (informational)');
  for (const t of report.targets) print(`  [${t.met ? 'PASS' : 'MISS'}] ${t.label}: ${t.detail}`);
  for (const n of report.notes) print(`  note: ${n}`);
}

/**
 * Runs a benchmark's main as a script: prints, and exits non-zero on failure. Started without the
 * V8 flags the deployed processes run with (shared/runtime/node-flags.ts), it runs itself again
 * with them, so `npx tsx bench/….ts` measures what is deployed; a value given on purpose is kept.
 */
export function runAsScript(main: (options: BenchOptions) => Promise<Report>): void {
  const unset = unsetV8Flags();
  if (unset.length > 0) {
    const again = spawnSync(process.execPath, [...unset, ...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit' });
    process.exit(again.status ?? 1);
  }
  main(benchOptions()).then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
