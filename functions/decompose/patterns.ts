import { groupOf, type Specialty, type SpecialtyGroup } from '../../shared/domain/vocabulary.js';
import { requestPatterns, type RequestPattern } from './pattern-catalogue.js';

/** Matching requests against the pattern catalogue (pattern-catalogue.ts). */
export { requestPatterns, type RequestPattern } from './pattern-catalogue.js';

interface Trigger {
  readonly exact: readonly string[];
  readonly prefixes: readonly string[];
}

export const groupOfPattern = (pattern: RequestPattern): SpecialtyGroup => groupOf(pattern.specialists[0] as Specialty);

const compiled: readonly { pattern: RequestPattern; triggers: readonly Trigger[]; group: SpecialtyGroup }[] = requestPatterns.map((pattern) => ({
  pattern,
  group: groupOfPattern(pattern),
  triggers: pattern.triggers.map((trigger) => {
    const words = trigger.split(' ');
    return {
      exact: words.filter((word) => !word.endsWith('*')),
      prefixes: words.filter((word) => word.endsWith('*')).map((word) => word.slice(0, -1)),
    };
  }),
}));

export interface RequestWords {
  readonly words: ReadonlySet<string>;
  readonly wordCount: number;
}

/** Lower-cased words of the request, split on anything that is not a letter or digit; linear in its length. */
export function tokenize(description: string): RequestWords {
  const list = description.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  return { words: new Set(list), wordCount: list.length };
}

function hasPrefix(words: ReadonlySet<string>, prefix: string): boolean {
  for (const word of words) if (word.startsWith(prefix)) return true;
  return false;
}

function triggered(words: ReadonlySet<string>, trigger: Trigger): boolean {
  return trigger.exact.every((word) => words.has(word)) && trigger.prefixes.every((prefix) => hasPrefix(words, prefix));
}

/** The patterns a request asks for, in catalogue order (fallbacks only where their group, and the groups they yield to, are otherwise empty). */
export function matchPatterns(words: ReadonlySet<string>): RequestPattern[] {
  const hits = compiled.filter((entry) => entry.triggers.some((trigger) => triggered(words, trigger)));
  const specificGroups = new Set(hits.filter((entry) => !entry.pattern.fallback).map((entry) => entry.group));
  const kept = ({ pattern, group }: (typeof hits)[number]): boolean =>
    !pattern.fallback || (!specificGroups.has(group) && !(pattern.yieldsTo ?? []).some((other) => specificGroups.has(other)));
  return hits.filter(kept).map((entry) => entry.pattern);
}

/** Working groups (everything but qa) that the matched patterns' specialists span. */
export function workingGroups(patterns: readonly RequestPattern[]): Set<SpecialtyGroup> {
  const groups = new Set<SpecialtyGroup>();
  for (const pattern of patterns) for (const specialty of pattern.specialists) groups.add(groupOf(specialty));
  groups.delete('qa');
  return groups;
}

/** Distinct primary specialists of the matched patterns: the number of separate deliverables asked for. */
export function deliverableCount(patterns: readonly RequestPattern[]): number {
  return new Set(patterns.map((pattern) => pattern.specialists[0])).size;
}

/** Verbs that ask for something to be built or changed, and verbs that ask for it to be examined. */
const buildVerbs = new Set([
  'build',
  'implement',
  'develop',
  'deploy',
  'migrate',
  'integrate',
  'setup',
  'automate',
  'configure',
  'install',
  'ship',
  'provision',
  'harden',
  'containerize',
  'containerise',
  'create',
  'design',
]);
const assessVerbs = new Set([
  'review',
  'audit',
  'assess',
  'analyze',
  'analyse',
  'investigate',
  'diagnose',
  'debug',
  'evaluate',
  'examine',
  'inspect',
  'why',
  'compare',
  'profile',
  'research',
]);

/**
 * Technical work is `build` when the request asks to build or change a system ("Build a CRM
 * integration", "Set up a pipeline"): design comes first and the engineering depends on it. It is
 * `assess` (reviews, audits, "why did latency double after the deploy"): the specialists examine the
 * system side by side. The first such verb in the request decides; none means assess.
 */
export function workMode(description: string): 'build' | 'assess' {
  const list = description.toLowerCase().match(/[a-z0-9]+/g) ?? [];
  for (const [index, word] of list.entries()) {
    if (buildVerbs.has(word) || (word === 'set' && list[index + 1] === 'up')) return 'build';
    if (assessVerbs.has(word)) return 'assess';
  }
  return 'assess';
}
