/**
 * Settings the node cannot start with: each problem names its source (the flag, the `QUORUMQ_*`
 * variable or the config file's key), all of them at once, so one edit fixes a whole file.
 */
export class ConfigError extends Error {
  override name = 'ConfigError';

  constructor(readonly problems: readonly string[]) {
    super(problems.join('\n'));
  }
}
