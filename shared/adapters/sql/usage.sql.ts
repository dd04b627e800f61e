/**
 * Migration 8: what each workflow spent on models (`workflows.usage`, ModelUsage as jsonb), written
 * by the same commit as the state change that spent it. The commit functions set an explicit list
 * of workflow columns, so they are replaced by the same text with `usage` added to that list: a
 * patch without `usage` keeps the stored value (jsonb_populate_record overlays the patch on the row).
 */
export function workflowUsageStatements(commitFunctions: readonly string[]): string[] {
  return [
    `ALTER TABLE workflows ADD COLUMN usage jsonb NOT NULL DEFAULT '{"inputTokens": 0, "outputTokens": 0, "costUsd": 0}'::jsonb`,
    ...commitFunctions.map(withUsageColumn),
  ];
}

const columns = 'SET (status, complexity, plan, failure_reason, completed_at) =';
const values = 'r.completed_at FROM jsonb_populate_record(w, ';

/** The function's text with `usage` set like the other workflow columns; fails loudly if the text is not the expected one. */
export function withUsageColumn(fn: string): string {
  if (!fn.startsWith('CREATE FUNCTION ') || count(fn, columns) !== 1 || count(fn, values) !== 1) {
    throw new Error(`migration 8 expects one workflow UPDATE in ${fn.slice(0, 60)}…`);
  }
  return fn
    .replace('CREATE FUNCTION ', 'CREATE OR REPLACE FUNCTION ')
    .replace(columns, 'SET (status, complexity, plan, failure_reason, completed_at, usage) =')
    .replace(values, 'r.completed_at, r.usage FROM jsonb_populate_record(w, ');
}

const count = (text: string, part: string): number => text.split(part).length - 1;
