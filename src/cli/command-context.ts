// What every operator command is given and answers, and the small readers of its flags they share.
import type { NodeApi } from './node-api.ts';
import { shortJson } from './text-output.ts';
import { UsageError } from './usage-error.ts';

/** Where a command reads and writes: the process's streams, or a test's. */
export interface CommandIo {
  readonly stdout: (text: string) => void;
  readonly stderr: (text: string) => void;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly readStdin: () => Promise<string>;
}

export type Values = Readonly<Record<string, string | boolean | undefined>>;

export interface Context {
  readonly api: NodeApi;
  /** The positional arguments by the names the command gives them. */
  readonly args: Readonly<Record<string, string>>;
  readonly flags: Values;
  readonly io: CommandIo;
}

/** What a command answers: the JSON for --json, and the same for people; undefined when it printed as it went (tail). */
export interface Output {
  readonly json: unknown;
  readonly text: string;
}

/** A command that wrote its output line by line as it ran. */
export const PRINTED_AS_IT_WENT: Output = { json: undefined, text: '' };

export async function get(api: NodeApi, path: string): Promise<unknown> {
  return (await api.send('GET', path, 'idempotent')).body;
}

export function staleQuery(flags: Values): string {
  return flags.stale === true ? '?stale=1' : '';
}

/** A queue name or message id as one path segment, whatever characters it holds. */
export function segment(text: string | undefined): string {
  return encodeURIComponent(text ?? '');
}

export function stringFlag(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

/** An integer flag of at least `min`, or undefined when not given; anything else is a usage error. */
export function integerFlag(values: Values, name: string, min: number): number | undefined {
  const text = stringFlag(values, name);
  if (text === undefined) return undefined;
  const value = Number(text);
  if (text.trim() === '' || !Number.isSafeInteger(value) || value < min) throw new UsageError(`--${name} must be an integer of at least ${min}, not ${text}`);
  return value;
}

export function jsonObject(text: string, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(text) as unknown;
  } catch {
    throw new UsageError(`${what} is not JSON: ${shortJson(text, 40)}`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new UsageError(`${what} must be a JSON object`);
  return value as Record<string, unknown>;
}
