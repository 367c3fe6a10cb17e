import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export interface ClusterDefaults {
  readonly seeds: string[];
  readonly bootstrapExpect: number;
  readonly host: string;
}

/**
 * The defaults that let three terminals with only `--port` form a cluster, and that the operator
 * commands ask when given no server. `root` is the package's folder: `cluster/defaults.json` ships in it.
 */
export function clusterDefaults(root: string): ClusterDefaults {
  return JSON.parse(readFileSync(join(root, 'cluster', 'defaults.json'), 'utf8')) as ClusterDefaults;
}
