import { InvalidArgumentError } from 'commander';

/** `--limit 10`: a whole number in range; commander names the option and the bad value. */
export const integerIn = (min: number, max: number) => (value: string) => {
  if (!/^\d+$/.test(value) || Number(value) < min || Number(value) > max) throw new InvalidArgumentError(`expected a whole number from ${min} to ${max}.`);
  return Number(value);
};

/** `--metadata '{"team":"x"}'`: a JSON object. */
export function jsonObject(value: string): Record<string, unknown> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(value);
  } catch {
    throw new InvalidArgumentError('expected a JSON object, e.g. \'{"team":"growth"}\'.');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed))
    throw new InvalidArgumentError('expected a JSON object, not an array or a scalar.');
  return parsed as Record<string, unknown>;
}

/** Repeatable `--topic a --topic b`. */
export const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];
