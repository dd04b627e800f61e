export interface Column<R> {
  header: string;
  value(row: R): string | number | null | undefined;
  /** Longer cells are cut with an ellipsis. */
  max?: number;
  align?: 'left' | 'right';
}

const cell = (value: string | number | null | undefined) => (value === null || value === undefined || value === '' ? '-' : String(value).replace(/\s+/g, ' '));
const cut = (text: string, max: number | undefined) => (max !== undefined && text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** A plain-text table: a header row, then one row per item, columns padded to their widest cell. */
export function renderTable<R>(columns: Column<R>[], rows: readonly R[]): string {
  const cells = rows.map((row) => columns.map((c) => cut(cell(c.value(row)), c.max)));
  const widths = columns.map((c, i) => Math.max(c.header.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) =>
    values
      .map((v, i) => (columns[i]!.align === 'right' ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header.toUpperCase())), ...cells.map(line)].join('\n') + '\n';
}

/** A quality score or other ratio with two decimals; absent as '-'. */
export const decimal = (value: number | null | undefined) => (value === null || value === undefined ? null : value.toFixed(2));
