/**
 * The V8 flags every process of ours runs with: the npm scripts pass them to node, the image and
 * Lambda through NODE_OPTIONS (test/unit/node-flags.test.ts keeps those in step with this list), and
 * a benchmark run without them starts itself again with them.
 *
 * A 64 MiB semi-space (V8's default is 16): an event's short-lived objects (parsed records, rows,
 * JSON) die in a young generation four times larger, so scavenges run a quarter as often and promote
 * less. In bench:kafka, interleaved A/B/B/A, the node process spent 13–14 % less CPU per event
 * (bench/results/issue-16-young-generation.md); the young generation may then take up to 192 MiB
 * (three semi-spaces), within the functions' 1 GiB limit.
 */
export const V8_FLAGS: readonly string[] = ['--max-semi-space-size=64'];

const nameOf = (flag: string): string => flag.split('=')[0] ?? flag;
const givenFlags = (execArgv: readonly string[], nodeOptions: string): string[] => [...nodeOptions.split(/\s+/), ...execArgv].filter(Boolean);

/** The flags of V8_FLAGS this process was not started with, exactly as listed (on its command line or in NODE_OPTIONS). */
export function missingV8Flags(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = givenFlags(execArgv, nodeOptions);
  return V8_FLAGS.filter((flag) => !given.includes(flag));
}

/** The flags of V8_FLAGS whose setting was not given at all: a value given on purpose (another semi-space, to compare) stays. */
export function unsetV8Flags(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  const names = new Set(givenFlags(execArgv, nodeOptions).map(nameOf));
  return V8_FLAGS.filter((flag) => !names.has(nameOf(flag)));
}

/** How this process set the settings V8_FLAGS names (the last one given wins), e.g. for a benchmark's label. */
export function v8FlagsInEffect(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string {
  const given = givenFlags(execArgv, nodeOptions);
  const set = V8_FLAGS.map((flag) => given.filter((g) => nameOf(g) === nameOf(flag)).at(-1)).filter((g): g is string => g !== undefined);
  return set.length > 0 ? set.join(' ') : 'V8 defaults';
}
