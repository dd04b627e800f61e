/**
 * A test's start-up as named, time-boxed steps. A step that overruns its bound fails with its name,
 * its own elapsed time and the start-up's, instead of leaving a hook to hang until vitest's timeout.
 * Progress goes to stderr only when it helps: on a failure, or once the start-up is slower than
 * `slowMs` (then the steps so far, and from then on each step over 1 s as it ends).
 */
export function startupSteps(label: string, options: { slowMs?: number; write?: (line: string) => void } = {}) {
  const started = Date.now();
  const write = options.write ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const done: string[] = [];
  let loud = false;
  let current = '';
  const since = (t: number) => `${((Date.now() - t) / 1000).toFixed(1)} s`;
  const goLoud = () => {
    if (loud) return;
    loud = true;
    write(`[${label}] start-up slower than ${(options.slowMs ?? 10_000) / 1000} s; steps so far (then only those over 1 s):`);
    for (const line of done) write(`[${label}]   ${line}`);
    if (current) write(`[${label}]   now: ${current}`);
  };
  const slowTimer = setTimeout(goLoud, options.slowMs ?? 10_000);
  slowTimer.unref();

  return {
    /** Runs `fn` as the step `name`; throws if it has not settled within `boundMs`. */
    async step<T>(name: string, boundMs: number, fn: () => Promise<T>): Promise<T> {
      const t0 = Date.now();
      current = `${name} (since ${new Date(t0).toISOString()})`;
      let timer: NodeJS.Timeout | undefined;
      const overrun = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`${label}: start-up step "${name}" did not finish within ${boundMs / 1000} s (start-up running for ${since(started)})`)),
          boundMs,
        );
      });
      try {
        const value = await Promise.race([fn(), overrun]);
        const line = `${name}: ${since(t0)} (at ${since(started)})`;
        done.push(line);
        // Once loud, only the steps that took a while: forty quick ones would bury them.
        if (loud && Date.now() - t0 >= 1_000) write(`[${label}]   ${line}`);
        return value;
      } catch (error) {
        goLoud();
        write(`[${label}]   FAILED ${name} after ${since(t0)}: ${String(error)}`);
        throw error;
      } finally {
        clearTimeout(timer);
        current = '';
      }
    },
    /** The start-up is over: no more progress lines. */
    finish(): void {
      clearTimeout(slowTimer);
      if (loud) write(`[${label}] start-up took ${since(started)}`);
    },
  };
}

/** `fn`, or an error naming `what` once `ms` passed (the work itself is left to finish or fail on its own). */
export async function bounded<T>(what: string, ms: number, fn: () => Promise<T>): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const overrun = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not done after ${ms / 1000} s`)), ms);
  });
  try {
    return await Promise.race([fn(), overrun]);
  } finally {
    clearTimeout(timer);
  }
}
