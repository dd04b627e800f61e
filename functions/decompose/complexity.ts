import { complexitySchema, type Complexity } from '../../shared/domain/vocabulary.js';
import { deliverableCount, groupOfPattern, matchPatterns, tokenize, workingGroups, type RequestPattern } from './patterns.js';

/**
 * Complexity from indicator words (spec, "Decomposition"), matched as whole words, case-insensitive.
 * Each distinct indicator word present adds its weight once (repetition does not inflate a score,
 * so a 10,000-character request is judged by what it says, not how often). A few inflections of the
 * spec's words count too (investigation, analyse, creating …). Ambiguous words weigh less:
 * "one", "case" and "security" 0.5; "compare" 0.5 toward COMPLEX (it is foremost a MODERATE word).
 */
const indicators: Record<Complexity, Readonly<Record<string, number>>> = {
  SIMPLE: { simple: 1, quick: 1, quickly: 1, basic: 1, one: 0.5, single: 1 },
  MODERATE: {
    analyze: 1,
    analyse: 1,
    analyzing: 1,
    analysing: 1,
    compare: 1,
    comparing: 1,
    create: 1,
    creating: 1,
    write: 1,
    writing: 1,
    design: 1,
    designing: 1,
  },
  COMPLEX: {
    comprehensive: 1.5,
    detailed: 1.5,
    multiple: 1.5,
    compare: 0.5,
    investigate: 1.5,
    investigating: 1.5,
    investigation: 1.5,
  },
  ENTERPRISE: { enterprise: 2, executive: 2, strategic: 2, complete: 1, professional: 1.5 },
  INVESTIGATION: {
    investigate: 2,
    investigating: 2,
    investigation: 2,
    forensics: 2,
    forensic: 2,
    evidence: 2,
    case: 0.5,
    security: 0.5,
  },
};

/** Above this many words a request is never SIMPLE. */
export const SHORT_REQUEST_WORDS = 40;

export interface ComplexityAssessment {
  complexity: Complexity;
  confidence: number;
  scores: Record<Complexity, number>;
}

const round2 = (value: number): number => Math.round(value * 100) / 100;

/**
 * Scores per level = Σ indicator weights + breadth bonuses from the request's patterns:
 *   ≥ 2 deliverables (distinct primary specialists of the matched patterns) → MODERATE +1;
 *   any technical pattern → MODERATE +0.5 (so "security" alone does not make an audit an INVESTIGATION);
 *   ≥ 3 working groups spanned → COMPLEX +1; ≥ 4 deliverables → COMPLEX +1;
 *   each investigation pattern (forensics, network, reverse engineering) → INVESTIGATION +1.5.
 * Without any investigation pattern, the INVESTIGATION words count toward COMPLEX instead: "investigate
 * why latency doubled" or "investigate the market" is thorough work, not forensics.
 * The highest score wins; ties go to the earlier level in SIMPLE, MODERATE, COMPLEX, ENTERPRISE,
 * INVESTIGATION order (the cheaper reading).
 * Fallback with no score at all: SIMPLE (confidence 0.5).
 * Floor: SIMPLE is only kept for a short request (≤ SHORT_REQUEST_WORDS words) with at most one
 * deliverable; anything else becomes MODERATE (confidence 0.5).
 * Confidence otherwise = ½ · (winner's share of all score) + ½ · (1 − 2^−winner), in [0, 1].
 */
export function assessComplexity(wordCount: number, words: ReadonlySet<string>, patterns: readonly RequestPattern[]): ComplexityAssessment {
  const scores = { SIMPLE: 0, MODERATE: 0, COMPLEX: 0, ENTERPRISE: 0, INVESTIGATION: 0 } satisfies Record<Complexity, number>;
  for (const level of complexitySchema.options) {
    for (const [word, weight] of Object.entries(indicators[level])) if (words.has(word)) scores[level] += weight;
  }
  const groups = workingGroups(patterns);
  const deliverables = deliverableCount(patterns);
  if (deliverables >= 2) scores.MODERATE += 1;
  if (groups.has('technical')) scores.MODERATE += 0.5;
  if (groups.size >= 3) scores.COMPLEX += 1;
  if (deliverables >= 4) scores.COMPLEX += 1;
  const investigations = patterns.filter((pattern) => groupOfPattern(pattern) === 'investigation').length;
  scores.INVESTIGATION += 1.5 * investigations;
  if (investigations === 0) {
    scores.COMPLEX += scores.INVESTIGATION;
    scores.INVESTIGATION = 0;
  }

  let winner: Complexity = 'SIMPLE';
  let total = 0;
  for (const level of complexitySchema.options) {
    total += scores[level];
    if (scores[level] > scores[winner]) winner = level;
  }
  const top = scores[winner];
  let confidence = total === 0 ? 0.5 : round2(0.5 * (top / total) + 0.5 * (1 - 2 ** -top));
  if (winner === 'SIMPLE' && (deliverables > 1 || wordCount > SHORT_REQUEST_WORDS)) {
    winner = 'MODERATE';
    confidence = 0.5;
  }
  const rounded = Object.fromEntries(Object.entries(scores).map(([level, score]) => [level, round2(score)]));
  return { complexity: winner, confidence: Math.min(1, Math.max(0, confidence)), scores: rounded as Record<Complexity, number> };
}

/** The request's complexity, confidence in [0, 1], and the score of every level. Pure and deterministic. */
export function classifyComplexity(description: string): ComplexityAssessment {
  const { words, wordCount } = tokenize(description);
  return assessComplexity(wordCount, words, matchPatterns(words));
}
