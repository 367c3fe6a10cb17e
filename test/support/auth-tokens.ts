import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { SecureSetup } from '../../cluster/secure-setup.ts';
import { type Action, generateToken, hashToken } from '../../src/server/access/auth-file.ts';

export interface TokenSpec {
  readonly actions: readonly Action[];
  /** Queue name patterns; all queues when left out. */
  readonly queues?: readonly string[];
}

/**
 * Fresh tokens for the grants in `specs` (keyed by token name), and a cluster setup that writes
 * them to an auth file in the cluster's data folder (the format of docs/http-api.md) and passes it as
 * `--auth-file`. The cluster's own requests (`TestCluster.request`) use the token named `as`.
 */
export function tokensFor<const Specs extends Readonly<Record<string, TokenSpec>>>(
  specs: Specs,
  as: keyof Specs & string,
): { tokens: Record<keyof Specs & string, string>; setup: (dir: string) => Promise<SecureSetup> } {
  type Names = keyof Specs & string;
  const names = Object.keys(specs) as Names[];
  const tokens = Object.fromEntries(names.map((name) => [name, generateToken()])) as Record<Names, string>;
  const setup = async (dir: string): Promise<SecureSetup> => {
    const authFile = join(dir, 'auth.json');
    const grants = names.map((name) => {
      const spec: TokenSpec = specs[name]!;
      return { name, sha256: hashToken(tokens[name]), actions: spec.actions, ...(spec.queues === undefined ? {} : { queues: spec.queues }) };
    });
    await writeFile(authFile, `${JSON.stringify({ tokens: grants }, null, 2)}\n`, { mode: 0o600 });
    return { nodeArgs: ['--auth-file', authFile], access: { token: tokens[as] }, files: { authFile } };
  };
  return { tokens, setup };
}
