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

/** The flags of V8_FLAGS this process was not started with (on its command line or in NODE_OPTIONS). */
export function missingV8Flags(execArgv: readonly string[] = process.execArgv, nodeOptions: string = process.env.NODE_OPTIONS ?? ''): string[] {
  const given = [...execArgv, ...nodeOptions.split(/\s+/)];
  return V8_FLAGS.filter((flag) => !given.includes(flag));
}
