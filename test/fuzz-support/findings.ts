/**
 * What a fuzz run found that is not fatal (a contract broken, a failure logged): kept by kind of
 * problem, the first occurrence with its input seed and input, and how often it came back. A crash,
 * a node that stops serving or a lost message ends the run at once instead: nothing after it means
 * anything.
 */
export interface Finding {
  readonly stream: string;
  readonly batch: number;
  readonly problem: string;
  /** The input's own seed, when one input is to blame (it replays and shrinks from it). */
  readonly seed: number | undefined;
  readonly input: unknown;
  count: number;
}

export class Findings {
  private readonly bySignature = new Map<string, Finding>();

  add(stream: string, batch: number, problem: string, seed?: number, input?: unknown): void {
    // Numbers (ports, ids, sizes) differ between occurrences of one problem.
    const signature = `${stream} ${problem.replace(/\d+/g, 'N').slice(0, 120)}`;
    const known = this.bySignature.get(signature);
    if (known !== undefined) {
      known.count++;
      return;
    }
    this.bySignature.set(signature, { stream, batch, problem, seed, input, count: 1 });
  }

  of(stream: string): Finding[] {
    return [...this.bySignature.values()].filter((finding) => finding.stream === stream);
  }

  all(): Finding[] {
    return [...this.bySignature.values()];
  }
}

/** A node's log line at error level, summed up as its message, error and path. */
export function logLineProblem(line: string): string {
  const json = line.replace(/^\[\d+\] /, '');
  try {
    const fields = JSON.parse(json) as { level?: number; msg?: string; err?: { message?: string; code?: string }; path?: string };
    // The path and the node stay out: one cause logged for many paths is one finding (the line is its input).
    return `a node logged level ${fields.level} "${fields.msg}"${fields.err === undefined ? '' : ` (${fields.err.code ?? ''} ${fields.err.message ?? ''})`}`;
  } catch {
    return `a node printed a line that is no JSON: ${json.slice(0, 300)}`;
  }
}
