import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { configKeys, loadConfig } from '../../shared/config.js';
import { loadInfra } from '../../shared/env.js';
import { ConfigError } from '../../shared/errors.js';
import { runCli } from '../../shared/runtime/cli.js';

/** The `.env` block of the seed's deployment guide, verbatim. */
const seedEnvBlock = `
ORCHESTRATION_MAX_AGENTS_PER_POOL=5
ORCHESTRATION_MAX_TASKS_PER_AGENT=3
ORCHESTRATION_HEARTBEAT_INTERVAL=60
ORCHESTRATION_MAX_AGENT_SPAWN_RATE=10
ORCHESTRATION_DECOMPOSITION_TIMEOUT=120.0
ORCHESTRATION_MAX_SUBTASKS=50
ORCHESTRATION_MESSAGE_TIMEOUT=300.0
ORCHESTRATION_MESSAGE_RETRIES=3
ORCHESTRATION_MESSAGE_BACKLOG_WARNING=1000
ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL=5000
ORCHESTRATION_WORKFLOW_TIMEOUT=24.0
ORCHESTRATION_QUALITY_THRESHOLD=0.85
ORCHESTRATION_MAX_WORKFLOWS=100
ORCHESTRATION_MAX_TOTAL_AGENTS=500
ORCHESTRATION_ENABLE_CACHE=true
ORCHESTRATION_ENABLE_METRICS=true
ORCHESTRATION_LOG_LEVEL=INFO
ORCHESTRATION_ENABLE_TRACING=true
ORCHESTRATION_ENABLE_CIRCUIT_BREAKER=true
ORCHESTRATION_RETRY_ATTEMPTS=3
`;
const seedEnv = Object.fromEntries(
  seedEnvBlock
    .trim()
    .split('\n')
    .map((line) => line.split('=') as [string, string]),
);

/** The ConfigError message of `env`, or a failure if it loads. */
function problemOf(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`${JSON.stringify(env)} was accepted`);
}

describe('configuration', () => {
  it("defaults to the seed deployment guide's values", () => {
    const defaults = loadConfig({});
    expect(loadConfig(seedEnv)).toEqual(defaults);
    for (const [key, value] of Object.entries(seedEnv)) {
      expect(configKeys).toContain(key);
      const parsed = defaults[key as keyof typeof defaults];
      expect(String(parsed), key).toBe(typeof parsed === 'number' ? String(Number(value)) : value);
    }
    expect(defaults.ORCHESTRATION_QUALITY_THRESHOLD).toBe(0.85);
    expect(defaults.ORCHESTRATION_ENABLE_TRACING).toBe(true);
  });

  it('reads the values it is given, numbers and booleans included', () => {
    const config = loadConfig({
      ORCHESTRATION_QUALITY_THRESHOLD: '0.5',
      ORCHESTRATION_ENABLE_CACHE: 'false',
      ORCHESTRATION_LOG_LEVEL: 'debug',
      ORCHESTRATION_MAX_WORKFLOWS: '7',
    });
    expect(config).toMatchObject({
      ORCHESTRATION_QUALITY_THRESHOLD: 0.5,
      ORCHESTRATION_ENABLE_CACHE: false,
      ORCHESTRATION_LOG_LEVEL: 'DEBUG',
      ORCHESTRATION_MAX_WORKFLOWS: 7,
    });
  });

  it.each(['abc', '1.7', '-0.1', 'NaN', 'Infinity'])('refuses ORCHESTRATION_QUALITY_THRESHOLD=%s, naming it and the expected form', (value) => {
    const message = problemOf({ ORCHESTRATION_QUALITY_THRESHOLD: value });
    expect(message).toContain(`ORCHESTRATION_QUALITY_THRESHOLD="${value}"`);
    expect(message).toContain('expected a number from 0 to 1');
  });

  it.each([
    ['ORCHESTRATION_MAX_WORKFLOWS', '2.5', 'an integer from 1 to 1000000'],
    ['ORCHESTRATION_MAX_WORKFLOWS', 'lots', 'an integer from 1 to 1000000'],
    ['ORCHESTRATION_MAX_SUBTASKS', '0', 'an integer from 1 to 1000'],
    ['ORCHESTRATION_ENABLE_METRICS', 'maybe', 'true or false'],
    ['ORCHESTRATION_LOG_LEVEL', 'VERBOSE', 'one of DEBUG, INFO, WARNING, ERROR'],
  ])('refuses %s=%s', (key, value, form) => {
    const message = problemOf({ [key]: value });
    expect(message).toContain(`${key}="${value}"`);
    expect(message).toContain(`expected ${form}`);
  });

  it('reports every bad variable at once', () => {
    const message = problemOf({ ORCHESTRATION_QUALITY_THRESHOLD: '1.7', ORCHESTRATION_MAX_WORKFLOWS: 'x', ORCHESTRATION_ENABLE_CACHE: 'sometimes' });
    for (const key of ['ORCHESTRATION_QUALITY_THRESHOLD', 'ORCHESTRATION_MAX_WORKFLOWS', 'ORCHESTRATION_ENABLE_CACHE']) expect(message).toContain(key);
  });

  it('refuses a backlog warning above the critical level', () => {
    expect(problemOf({ ORCHESTRATION_MESSAGE_BACKLOG_WARNING: '6000', ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL: '5000' })).toMatch(
      /BACKLOG_WARNING.*BACKLOG_CRITICAL/,
    );
    expect(
      loadConfig({ ORCHESTRATION_MESSAGE_BACKLOG_WARNING: '5000', ORCHESTRATION_MESSAGE_BACKLOG_CRITICAL: '5000' }).ORCHESTRATION_MESSAGE_BACKLOG_WARNING,
    ).toBe(5000);
  });

  it('refuses a bad PORT', () => {
    expect(() => loadInfra({ PORT: 'eighty' })).toThrow(/PORT="eighty"/);
  });

  it('`amas config` prints the effective configuration, or the error with exit 2', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = (env: Record<string, string>) => ({ out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), env });
    expect(await runCli(['config'], io({ ORCHESTRATION_MAX_WORKFLOWS: '7' }))).toBe(0);
    expect(out.join('')).toContain('ORCHESTRATION_MAX_WORKFLOWS=7\n');
    expect(out.join('')).toContain('ORCHESTRATION_QUALITY_THRESHOLD=0.85\n');
    expect(await runCli(['config'], io({ ORCHESTRATION_QUALITY_THRESHOLD: '1.7' }))).toBe(2);
    expect(err.join('')).toContain('ORCHESTRATION_QUALITY_THRESHOLD="1.7" is invalid');
    expect(await runCli(['config', '--verbose'], io({}))).toBe(2);
    expect(err.join('')).toMatch(/--verbose[\s\S]*usage: amas/);
  });

  it('stops `npm start` with exit code 2, the variable named on stderr and no stack trace', async () => {
    const run = promisify(execFile)('node_modules/.bin/tsx', ['shared/runtime/main-embedded.ts'], {
      env: { ...process.env, ORCHESTRATION_QUALITY_THRESHOLD: '1.7', PORT: '0' },
      timeout: 50_000,
    });
    const failure = (await run.then(
      () => null,
      (error: unknown) => error,
    )) as { code: number; stderr: string } | null;
    expect(failure).not.toBeNull();
    expect(failure!.code).toBe(2);
    expect(failure!.stderr).toContain('ORCHESTRATION_QUALITY_THRESHOLD="1.7" is invalid: expected a number from 0 to 1');
    expect(failure!.stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
