import { readFileSync } from 'node:fs';
import { ClusterError } from '../../shared/index.ts';
import { ClusterKeys, type PeerTls } from '../../transport/index.ts';
import { AccessPolicy, parseAuthFile } from '../access/index.ts';
import { isLoopbackHost } from './loopback.ts';
import type { NodeOptions } from './node-options.ts';

/** What a node trusts and proves itself with, read from the files its options name. */
export interface NodeSecurity {
  readonly clusterKeys: ClusterKeys | undefined;
  /** The node's certificate, key and CA: the listener speaks TLS, and peer links are mutual TLS. */
  readonly peerTls: PeerTls | undefined;
  /** Client tokens; without an auth file every client may do everything. */
  readonly accessPolicy: AccessPolicy | undefined;
}

/**
 * Reads the cluster key, TLS and auth files once, at start. Every problem is reported before the node
 * listens, with the file it came from, so a typo in a path fails the start rather than a request.
 */
export function loadNodeSecurity(options: NodeOptions): NodeSecurity {
  const clusterKeys =
    options.clusterKeyFile === undefined ? undefined : ClusterKeys.parse(readConfigFile(options.clusterKeyFile, 'cluster key'), options.clusterKeyFile);
  const tlsFiles = [options.tlsCertFile, options.tlsKeyFile, options.tlsCaFile];
  const given = tlsFiles.filter((file) => file !== undefined).length;
  if (given !== 0 && given !== 3) {
    throw new ClusterError(
      'INVALID_CONFIG',
      'TLS needs all three of --tls-cert, --tls-key and --tls-ca (the CA verifies peers, which present the same kind of certificate)',
    );
  }
  const peerTls =
    given === 3
      ? {
          cert: Buffer.from(readConfigFile(options.tlsCertFile!, 'TLS certificate')),
          key: Buffer.from(readConfigFile(options.tlsKeyFile!, 'TLS key')),
          ca: Buffer.from(readConfigFile(options.tlsCaFile!, 'TLS CA')),
        }
      : undefined;
  const accessPolicy = options.authFile === undefined ? undefined : new AccessPolicy(parseAuthFile(readConfigFile(options.authFile, 'auth'), options.authFile));
  return { clusterKeys, peerTls, accessPolicy };
}

/**
 * Listening beyond loopback without a cluster key lets anyone who reaches the port join the
 * cluster, read every message and rewrite the log: refused unless the operator says so.
 */
export function checkExposure(options: NodeOptions): void {
  if (options.insecure || options.clusterKeyFile !== undefined || isLoopbackHost(options.host)) return;
  throw new ClusterError(
    'INVALID_CONFIG',
    `--host ${options.host} listens beyond this machine, and without --cluster-key-file anyone who reaches the port can join the cluster and rewrite its log. ` +
      'Give every node the same --cluster-key-file (and --tls-cert/--tls-key/--tls-ca, --auth-file for clients), or pass --insecure on a network you trust.',
  );
}

export function readConfigFile(file: string, what: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new ClusterError('INVALID_CONFIG', `cannot read the ${what} file ${file}: ${error instanceof Error ? error.message : String(error)}`);
  }
}
