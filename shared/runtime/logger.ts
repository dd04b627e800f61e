export type LogLevel = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR';
const rank: Record<LogLevel, number> = { DEBUG: 10, INFO: 20, WARNING: 30, ERROR: 40 };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** JSON lines on stderr, so stdout stays free for CLI output. */
export function createLogger(level: LogLevel, name: string, sink: (line: string) => void = (l) => process.stderr.write(`${l}\n`)): Logger {
  const at = (lvl: LogLevel) => (message: string, fields: Record<string, unknown> = {}) => {
    if (rank[lvl] < rank[level]) return;
    sink(JSON.stringify({ time: new Date().toISOString(), level: lvl, logger: name, message, ...fields }));
  };
  return { debug: at('DEBUG'), info: at('INFO'), warn: at('WARNING'), error: at('ERROR') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
