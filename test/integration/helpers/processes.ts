import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

/**
 * Real processes for the chaos suite: the orchestrator's entry points as children (kill -9, start
 * again) and the machine's shared servers (Redis, PostgreSQL, Kafka), restarted with their own tools.
 */
const exec = promisify(execFile);
export const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
export const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Polls `check` until it holds. Bounded as a whole: a check that itself hangs (a query to a server
 * that is restarting) is abandoned when the time is up, and the error says what was awaited.
 */
export async function waitUntil(what: string, check: () => Promise<boolean>, timeoutMs: number, everyMs = 100): Promise<number> {
  const started = Date.now();
  let lastError: unknown = null;
  for (;;) {
    const left = timeoutMs - (Date.now() - started);
    const ok = await Promise.race([check().catch((error: unknown) => ((lastError = error), false)), pause(Math.max(0, left)).then(() => false)]);
    if (ok) return Date.now() - started;
    if (Date.now() - started >= timeoutMs) {
      throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}${lastError ? ` (last check failed: ${String(lastError)})` : ''}`);
    }
    await pause(everyMs);
  }
}

/** A DATABASE_URL whose every connection uses `schema` (libpq `options`, which node-postgres passes on). */
export const schemaUrl = (baseUrl: string, schema: string): string =>
  `${baseUrl}${baseUrl.includes('?') ? '&' : '?'}options=${encodeURIComponent(`-c search_path=${schema}`)}`;

export interface ServiceSpec {
  name: string;
  /** A TypeScript entry point under the repository and its arguments. */
  script: string;
  args?: string[];
  port: number;
  env: Record<string, string>;
}

/** One child process; `node --import tsx` keeps it a single process, so SIGKILL reaches the real one. */
export class Service {
  private child: ChildProcess | null = null;
  private exited: Promise<void> = Promise.resolve();
  private readonly tail: string[] = [];

  constructor(readonly spec: ServiceSpec) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  /** The last lines it wrote, for a failure message. */
  logTail(lines = 30): string {
    return this.tail.slice(-lines).join('\n');
  }

  async start(timeoutMs = 60_000): Promise<number> {
    const started = Date.now();
    const child = spawn(process.execPath, ['--import', 'tsx', this.spec.script, ...(this.spec.args ?? [])], {
      cwd: repoRoot,
      env: { ...process.env, ...this.spec.env, PORT: String(this.spec.port) },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    // AMAS_TEST_LOG_DIR keeps every line of every child (the failure message has only the tail).
    const logFile = process.env.AMAS_TEST_LOG_DIR ? `${process.env.AMAS_TEST_LOG_DIR}/${this.spec.name}.log` : null;
    const keep = (chunk: Buffer) => {
      if (logFile) appendFileSync(logFile, chunk);
      for (const line of chunk.toString().split('\n')) if (line.trim()) this.tail.push(`[${this.spec.name}] ${line}`);
      if (this.tail.length > 200) this.tail.splice(0, this.tail.length - 200);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    let exitCode: number | null = null;
    child.once('exit', (code) => (exitCode = code));
    await waitUntil(
      `${this.spec.name} answers /health/orchestration`,
      async () => {
        if (exitCode !== null) throw new Error(`${this.spec.name} exited with ${exitCode}:\n${this.logTail()}`);
        const res = await fetch(`http://127.0.0.1:${this.spec.port}/health/orchestration`, { signal: AbortSignal.timeout(1_000) });
        return res.ok;
      },
      timeoutMs,
      100,
    ).catch((error: unknown) => {
      throw new Error(`${String(error)}\n${this.logTail()}`);
    });
    return Date.now() - started;
  }

  /** kill -9: no shutdown hook runs, in-flight work is lost mid-stream. */
  async kill9(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGKILL');
    await Promise.race([
      this.exited,
      pause(10_000).then(() => Promise.reject(new Error(`${this.spec.name} (pid ${child.pid}) did not exit 10 s after SIGKILL`))),
    ]);
  }

  /** Graceful stop (SIGTERM), SIGKILL after `graceMs`. */
  async stop(graceMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

// ---- the machine's shared servers -------------------------------------------------------------

const redisArgs = [
  '--daemonize',
  'yes',
  '--bind',
  '127.0.0.1',
  '-::1',
  '--port',
  '6379',
  '--save',
  '',
  '--appendonly',
  'no',
  '--dir',
  '/var/lib/redis',
  '--logfile',
  '/var/log/redis/ci.log',
];

export async function redisAnswers(): Promise<boolean> {
  const { stdout } = await exec('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'ping'], { timeout: 1_000 });
  return stdout.trim() === 'PONG';
}

export async function ensureRedisUp(): Promise<void> {
  if (await redisAnswers().catch(() => false)) return;
  await exec('redis-server', redisArgs);
  await waitUntil('Redis answers PING', redisAnswers, 15_000);
}

/** Stops Redis without saving (every lease and fencing counter is lost) and starts it again. */
export async function restartRedis(): Promise<void> {
  try {
    await exec('redis-cli', ['-h', '127.0.0.1', '-p', '6379', 'shutdown', 'nosave'], { timeout: 5_000 }).catch(() => undefined);
    await waitUntil('Redis stops answering', async () => !(await redisAnswers().catch(() => false)), 10_000);
  } finally {
    await ensureRedisUp();
  }
}

export async function postgresAnswers(): Promise<boolean> {
  await exec('pg_isready', ['-h', '127.0.0.1', '-p', '5432'], { timeout: 2_000 });
  return true;
}

async function pgCluster(action: 'restart' | 'start'): Promise<void> {
  const { stdout } = await exec('ls', ['/etc/postgresql']);
  const version = stdout.trim().split('\n')[0]!;
  await exec('pg_ctlcluster', ['--skip-systemctl-redirect', version, 'main', action], { timeout: 60_000 });
}

export async function ensurePostgresUp(): Promise<void> {
  if (await postgresAnswers().catch(() => false)) return;
  await pgCluster('start').catch(() => undefined);
  await waitUntil('PostgreSQL accepts connections', postgresAnswers, 60_000, 200);
}

/** A fast-shutdown restart: every connection is cut, in-flight transactions roll back. */
export async function restartPostgres(): Promise<void> {
  try {
    await pgCluster('restart');
  } finally {
    await ensurePostgresUp();
  }
}

export async function kafkaAnswers(): Promise<boolean> {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port: 9092 });
    socket.setTimeout(1_000);
    socket.once('connect', () => (socket.destroy(), resolve(true)));
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
  });
}

/**
 * infra/kafka/start.sh is idempotent and waits until the broker really serves. A broker it starts is
 * recorded for the test script's `infra/down.sh --only-started` (INFRA_STARTED_FILE), unless `record` is false.
 */
export async function ensureKafkaUp(record = true): Promise<void> {
  const { INFRA_STARTED_FILE: _recordFile, ...unrecorded } = process.env;
  await exec('bash', ['infra/kafka/start.sh'], { cwd: repoRoot, timeout: 120_000, env: record ? process.env : unrecorded });
}

/**
 * Stops the broker (TERM) and starts it on the same data. The start is not recorded: whoever started
 * the broker before decides whether it is stopped at the end, not this restart.
 */
export async function restartKafka(): Promise<void> {
  try {
    await exec('bash', ['infra/kafka/stop.sh'], { cwd: repoRoot, timeout: 90_000 });
  } finally {
    await ensureKafkaUp(false);
  }
}
