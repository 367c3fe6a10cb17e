import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { RELEASE_CLUSTER_VERSION } from '../../queue/index.ts';
import { PEER_PROTOCOL_VERSION, type PeerRelease } from '../../transport/index.ts';

/** The package's version, for people reading `GET /cluster` and logs; the numbers that decide are the others. */
function packageVersion(): string {
  try {
    // Three folders up from this file, in the source tree (src/server/node) and in the package (dist/server/node) alike.
    const path = join(fileURLToPath(new URL('.', import.meta.url)), '..', '..', '..', 'package.json');
    const version = (JSON.parse(readFileSync(path, 'utf8')) as { version?: unknown }).version;
    return typeof version === 'string' ? version.slice(0, 64) : 'unknown';
  } catch {
    return 'unknown';
  }
}

/** What this node's release supports, as it tells its peers at hello. */
export const THIS_RELEASE: PeerRelease = {
  protocolMax: PEER_PROTOCOL_VERSION,
  clusterVersionMax: RELEASE_CLUSTER_VERSION,
  version: packageVersion(),
};
