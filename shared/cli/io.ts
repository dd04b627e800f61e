import { OrchestrationError } from '../errors.js';

/** Where a CLI run writes and what it reads: the process in production, strings in tests. */
export interface CliIo {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** stdout is a terminal: redraw one progress line instead of printing one line per change. */
  isTTY?: boolean;
  /** Terminal width, for the progress line. */
  columns?: number;
}

/** A mistake in how the CLI was called: message and usage, exit 2, no stack. */
export class UsageError extends OrchestrationError {
  constructor(message: string) {
    super('USAGE', message);
  }
}
