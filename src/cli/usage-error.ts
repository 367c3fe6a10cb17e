/** A command line the program cannot run: it prints the usage and exits with 2 (0 for an empty message: `--help`). */
export class UsageError extends Error {
  override name = 'UsageError';
}
