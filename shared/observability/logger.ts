import { pino, stdTimeFunctions, destination } from 'pino';
import { traceLogFields } from './tracing/spans.js';

export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
const toPino = { DEBUG: 'debug', INFO: 'info', WARNING: 'warn', ERROR: 'error' } as const satisfies Record<LogLevel, string>;
const fromPino: Record<string, string> = { trace: 'TRACE', debug: 'DEBUG', info: 'INFO', warn: 'WARNING', error: 'ERROR', fatal: 'FATAL' };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * JSON lines on stderr, so stdout stays free for CLI output: `{"level":"INFO","time":"<ISO>",
 * "logger":name,...fields,"message":…}` (plus `trace_id`/`span_id` inside a span), the names of ORCHESTRATION_LOG_LEVEL kept. `sink`
 * receives each line without its newline instead (tests capture them).
 */
export function createLogger(level: LogLevel, name: string, sink?: (line: string) => void): Logger {
  // Synchronous on stderr: a line written just before the process exits is not lost.
  const stream = sink ? { write: (line: string) => sink(line.endsWith('\n') ? line.slice(0, -1) : line) } : destination({ dest: 2, sync: true });
  const log = pino(
    {
      level: toPino[level],
      base: { logger: name },
      messageKey: 'message',
      timestamp: stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: fromPino[label] ?? label.toUpperCase() }) },
      // trace_id and span_id of the active span, so a line is found from its trace and back.
      mixin: traceLogFields,
    },
    stream,
  );
  return {
    debug: (message, fields = {}) => log.debug(fields, message),
    info: (message, fields = {}) => log.info(fields, message),
    warn: (message, fields = {}) => log.warn(fields, message),
    error: (message, fields = {}) => log.error(fields, message),
  };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
