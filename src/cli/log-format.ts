const COLORS = [36, 33, 35, 32, 34, 91, 92];
const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };
const HIDDEN = new Set(['level', 'time', 'msg', 'port', 'node', 'pid', 'hostname']);

/** One node's JSON log line as a short coloured line with the node's port in front. */
export function formatLine(port: number, index: number, line: string, color: boolean): string {
  const prefix = color ? `\u001b[${COLORS[index % COLORS.length]}m[${port}]\u001b[0m` : `[${port}]`;
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return `${prefix} ${line}`;
  }
  const time = typeof record.time === 'number' ? new Date(record.time).toISOString().slice(11, 23) : '';
  const level = LEVELS[record.level as number] ?? String(record.level);
  const fields = Object.entries(record)
    .filter(([key]) => !HIDDEN.has(key))
    .map(([key, value]) => `${key}=${typeof value === 'string' ? value : JSON.stringify(value)}`)
    .join(' ');
  return `${prefix} ${time} ${level.padEnd(5)} ${String(record.msg ?? '')}${fields === '' ? '' : ` ${fields}`}`;
}
