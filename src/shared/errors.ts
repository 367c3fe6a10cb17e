/**
 * Base of every error that crosses a module boundary. Only `code` crosses the wire; clients decide
 * what to do from `code` and `retryable`, never from the message text.
 */
export interface ClusterErrorOptions {
  retryable?: boolean;
  leaderHint?: string;
  cause?: unknown;
}

export class ClusterError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly retryable: boolean;
  readonly leaderHint: string | undefined;

  constructor(code: Code, message: string, options: ClusterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'ClusterError';
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.leaderHint = options.leaderHint;
  }
}
