import { spawn, type ChildProcess } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';

/** Alive and not a zombie (a container's PID 1 may never reap an orphan). */
function alive(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0] !== 'Z';
  } catch {
    return false;
  }
}

/** The process and every process below it, read from ps. */
function tree(root: number): number[] {
  const rows = execFileSync('ps', ['-eo', 'pid=,ppid='], { encoding: 'utf8' })
    .trim()
    .split('\n')
    .map((line) => line.trim().split(/\s+/).map(Number) as [number, number]);
  const found = [root];
  for (let i = 0; i < found.length; i += 1) for (const [pid, ppid] of rows) if (ppid === found[i] && !found.includes(pid)) found.push(pid);
  return found;
}

const answers = async (port: number) => {
  try {
    await fetch(`http://127.0.0.1:${port}/health/orchestration`, { signal: AbortSignal.timeout(1_000) });
    return true;
  } catch {
    return false;
  }
};

async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  for (const until = Date.now() + timeoutMs; !(await check()); await new Promise((r) => setTimeout(r, 50))) {
    if (Date.now() > until) throw new Error(`not within ${timeoutMs} ms: ${what}`);
  }
}

/** Issue 11: `npm start` went on serving after SIGTERM (npm signalled `sh`, which left the tsx child running). */
describe('npm start stops on a signal', () => {
  let npm: ChildProcess | undefined;
  let dataDir: string | undefined;
  afterEach(() => {
    // Whatever the outcome, nothing this test started outlives it: its own process group.
    if (npm?.pid && alive(npm.pid)) process.kill(-npm.pid, 'SIGKILL');
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it.each(['SIGTERM', 'SIGINT'] as const)(
    '%s to the npm process stops every process of its tree and the port',
    async (signal) => {
      dataDir = mkdtempSync(join(tmpdir(), 'amas-npm-start-'));
      // The embedded runtime whatever the calling shell has configured.
      const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', AMAS_DATA_DIR: dataDir };
      for (const server of ['KAFKA_BROKERS', 'DATABASE_URL', 'REDIS_URL', 'NEO4J_URL']) delete env[server];
      npm = spawn('npm', ['start'], { cwd: process.cwd(), env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      npm.stdout?.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
      npm.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const exited = new Promise<void>((resolve) => npm?.once('exit', () => resolve()));

      await waitFor(`the listening line (stdout: ${stdout} stderr: ${stderr.slice(-2_000)})`, () => /listening on http:\/\/localhost:\d+/.test(stdout), 60_000);
      const port = Number(/listening on http:\/\/localhost:(\d+)/.exec(stdout)?.[1]);
      expect(await answers(port)).toBe(true);
      const processes = tree(npm.pid!);
      expect(processes.length).toBeGreaterThan(1);

      process.kill(npm.pid!, signal);
      await waitFor(
        'npm exits',
        async () => await Promise.race([exited.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 50))]),
        10_000,
      );
      await waitFor(`every process of the tree exits (${processes.join(', ')})`, () => processes.every((pid) => !alive(pid)), 10_000);
      expect(await answers(port)).toBe(false);
      expect(stderr).toContain(`"signal":"${signal}"`);
    },
    90_000,
  );
});
