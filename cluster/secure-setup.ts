import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { generateToken, hashToken } from '../src/server/access/auth-file.ts';
import type { NodeAccess } from './node-http.ts';
import { makeTestCertificates } from './tls-certs.ts';

export interface SecureSetupOptions {
  /** A cluster key file (`--cluster-key-file`). */
  readonly clusterKey?: boolean;
  /** An auth file with one admin token (`--auth-file`). */
  readonly auth?: boolean;
  /** A throwaway CA and node certificate (`--tls-*`). */
  readonly tls?: boolean;
  /** Names and addresses the certificate must cover besides loopback. */
  readonly hosts?: readonly string[];
}

export interface SecureSetup {
  /** Flags that give every node of the cluster the files made. */
  readonly nodeArgs: readonly string[];
  /** How clients, scripts and tests reach the cluster: its CA and the admin token. */
  readonly access: NodeAccess;
  readonly files: { readonly clusterKey?: string; readonly authFile?: string; readonly caFile?: string };
}

/**
 * The files a secured local cluster runs with, in `dir`: a random cluster key, an auth file holding
 * one admin token, certificates. What exists is reused, so a relaunch keeps its key, token and CA
 * (clients configured for them keep working). For playgrounds and tests: production keys and
 * certificates come from the operator's own tooling (docs/operations.md, "Security").
 */
export async function makeSecureSetup(dir: string, options: SecureSetupOptions): Promise<SecureSetup> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const nodeArgs: string[] = [];
  let access: NodeAccess = {};
  const files: { clusterKey?: string; authFile?: string; caFile?: string } = {};
  if (options.clusterKey === true) {
    files.clusterKey = join(dir, 'cluster.key');
    await reuseOrWrite(files.clusterKey, () => `${randomBytes(32).toString('base64')}\n`);
    nodeArgs.push('--cluster-key-file', files.clusterKey);
  }
  if (options.auth === true) {
    const tokenFile = join(dir, 'admin.token');
    const token = (await reuseOrWrite(tokenFile, () => `${generateToken()}\n`)).trim();
    files.authFile = join(dir, 'auth.json');
    const authFile = { tokens: [{ name: 'admin', sha256: hashToken(token), actions: ['admin'], queues: ['*'] }] };
    await writeFile(files.authFile, `${JSON.stringify(authFile, null, 2)}\n`, { mode: 0o600 });
    nodeArgs.push('--auth-file', files.authFile);
    access = { ...access, token };
  }
  if (options.tls === true) {
    const certificates = await makeTestCertificates(join(dir, 'tls'), { hosts: options.hosts ?? [] });
    files.caFile = certificates.caFile;
    nodeArgs.push('--tls-cert', certificates.certFile, '--tls-key', certificates.keyFile, '--tls-ca', certificates.caFile);
    access = { ...access, ca: await readFile(certificates.caFile) };
  }
  return { nodeArgs, access, files };
}

async function reuseOrWrite(file: string, make: () => string): Promise<string> {
  try {
    return await readFile(file, 'utf8');
  } catch {
    const content = make();
    await writeFile(file, content, { mode: 0o600 });
    return content;
  }
}
