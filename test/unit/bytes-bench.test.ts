// bench/bytes.ts at a tiny volume: every catalog type has a sample that parses and every figure is printed.
// Nothing here asserts speed.
import { describe, expect, it } from 'vitest';
import { runBytesBench } from '../../bench/bytes.js';
import { eventDefinitions } from '../../shared/events/catalog.js';

describe('bytes bench (--quick)', () => {
  it('reports the parse cost of every event type and the binding and path figures', async () => {
    const lines: string[] = [];
    const report = await runBytesBench({ quick: true, print: (line) => lines.push(line) });
    const keys = report.figures.map((f) => f.key);
    for (const { type } of eventDefinitions) expect(keys).toContain(`zod.${type}`);
    for (const key of ['decode.binary.subtask.completed', 'encode.binary.subtask.ready', 'path.relay.subtask.completed', 'path.relay-text.subtask.completed'])
      expect(keys).toContain(key);
    for (const { key, value } of [...report.figures, ...report.ratios]) expect(value, key).toBeGreaterThan(0);
    expect(lines.join('\n')).toContain('parseEvent / JSON.parse subtask.completed');
  }, 60_000);
});
