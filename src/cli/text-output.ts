// How the operator commands print for people: aligned tables and indented key-value lists. With
// --json they print the server's JSON instead, which is what scripts should read.

/** Rows under a header, each column as wide as its widest cell; the last column is not padded. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? '').length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, column) => (column === cells.length - 1 ? cell : cell.padEnd(widths[column]!)))
      .join('  ')
      .trimEnd();
  return [line(header), ...rows.map(line)].join('\n');
}

/** An object's fields one per line, nested objects indented under their name, times as ISO dates. */
export function keyValues(value: Readonly<Record<string, unknown>>, indent = ''): string {
  const entries = Object.entries(value).filter(([, field]) => field !== undefined);
  const width = Math.max(0, ...entries.map(([key]) => key.length));
  return entries
    .map(([key, field]) => {
      if (isPlainObject(field) && Object.keys(field).length > 0) return `${indent}${key}\n${keyValues(field, `${indent}  `)}`;
      return `${indent}${key.padEnd(width)}  ${cell(field, key)}`;
    })
    .join('\n');
}

/** One value as a table cell: times (fields named …At or …Deadline) as ISO dates, objects as JSON, nothing as `-`. */
export function cell(value: unknown, key = ''): string {
  if (value === undefined || value === null) return '-';
  if (typeof value === 'number' && isTimeField(key)) return new Date(value).toISOString();
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

/** JSON cut to `length` characters, for a message body in a table. */
export function shortJson(value: unknown, length = 60): string {
  const text = value === undefined ? '-' : JSON.stringify(value);
  return text.length <= length ? text : `${text.slice(0, length - 1)}…`;
}

function isTimeField(key: string): boolean {
  return /(At|Deadline)$/.test(key);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
