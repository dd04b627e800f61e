// Where the machine's CPU goes during a run: the whole box from /proc/stat, and the share of each
// server (this node process, the Kafka broker, PostgreSQL, Redis) from /proc/<pid>/stat. Linux only.
import { readdir, readFile } from 'node:fs/promises';

/** USER_HZ is 100 on Linux: one clock tick is 10 ms. */
const MS_PER_TICK = 10;

export const owners = ['node', 'kafka', 'postgres', 'redis'] as const;
export type Owner = (typeof owners)[number];
export type CpuSplit = Record<Owner | 'other', number>;

export const ownerLabels: Record<Owner | 'other', string> = {
  node: 'this node process (functions, relays, bench)',
  kafka: 'Kafka broker',
  postgres: 'PostgreSQL',
  redis: 'Redis',
  other: 'everything else (other servers, kernel, exited processes)',
};

/** Busy CPU time of the whole machine so far (all processes, all cores), from /proc/stat. */
async function machineBusyMs(): Promise<number> {
  const stat = await readFile('/proc/stat', 'utf8');
  const [, ...fields] = (stat.split('\n')[0] ?? '').trim().split(/\s+/);
  // user nice system idle iowait irq softirq steal: everything but idle and iowait is busy.
  const ticks = fields.slice(0, 8).reduce((sum, value, i) => (i === 3 || i === 4 ? sum : sum + Number(value)), 0);
  return ticks * MS_PER_TICK;
}

export interface CpuSnapshot {
  machineMs: number;
  /** CPU ms so far of each process (with its reaped children) that belongs to an owner. */
  byPid: Map<number, { owner: Owner; ms: number }>;
}

export async function cpuSnapshot(): Promise<CpuSnapshot> {
  const byPid = new Map<number, { owner: Owner; ms: number }>();
  const pids = (await readdir('/proc')).filter((name) => /^\d+$/.test(name)).map(Number);
  await Promise.all(
    pids.map(async (pid) => {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => null);
      if (stat === null) return; // gone meanwhile
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      const owner = await ownerOf(pid, comm);
      if (!owner) return;
      // After the command: state ppid … utime (14th field) stime cutime cstime.
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(fields[i] ?? 0), 0);
      byPid.set(pid, { owner, ms: ticks * MS_PER_TICK });
    }),
  );
  return { machineMs: await machineBusyMs(), byPid };
}

async function ownerOf(pid: number, comm: string): Promise<Owner | undefined> {
  if (pid === process.pid) return 'node';
  if (comm === 'postgres' || comm === 'postmaster') return 'postgres';
  if (comm.startsWith('redis-server')) return 'redis';
  if (comm === 'java') {
    const cmdline = await readFile(`/proc/${pid}/cmdline`, 'utf8').catch(() => '');
    if (cmdline.split('\0').includes('kafka.Kafka')) return 'kafka';
  }
  return undefined;
}

/** CPU ms each owner spent between two snapshots; `other` is the machine's rest, so the parts add up. */
export function cpuBetween(before: CpuSnapshot, after: CpuSnapshot): CpuSplit {
  const split: CpuSplit = { node: 0, kafka: 0, postgres: 0, redis: 0, other: 0 };
  for (const [pid, { owner, ms }] of after.byPid) split[owner] += ms - (before.byPid.get(pid)?.ms ?? 0);
  const machine = after.machineMs - before.machineMs;
  split.other = Math.max(0, machine - owners.reduce((sum, owner) => sum + split[owner], 0));
  return split;
}

/** The split over `count` units (hops, events), and the machine's whole cost per unit (the parts' sum). */
export function perUnit(split: CpuSplit, count: number): { totalMs: number; split: CpuSplit } {
  const each = Object.fromEntries(Object.entries(split).map(([owner, ms]) => [owner, ms / count])) as CpuSplit;
  return { totalMs: Object.values(each).reduce((a, b) => a + b, 0), split: each };
}
