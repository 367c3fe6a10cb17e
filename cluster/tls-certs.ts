import { execFile } from 'node:child_process';
import { createPrivateKey, randomBytes, X509Certificate } from 'node:crypto';
import { chmod, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join, resolve } from 'node:path';

/**
 * Throwaway certificates for a local cluster and for tests: one CA, and one certificate that every
 * node presents both as a server (to clients and peers) and as a client (when it dials a peer).
 * Minted with the `openssl` CLI so that no certificate library joins the dependencies.
 */
export interface TestCertificates {
  readonly dir: string;
  /** The CA certificate clients and nodes trust (`--tls-ca`, the SDK's `tls.ca`). */
  readonly caFile: string;
  /** The node certificate (`--tls-cert`), serverAuth and clientAuth. */
  readonly certFile: string;
  /** The node certificate's private key (`--tls-key`). */
  readonly keyFile: string;
}

export interface TestCertificateOptions {
  /** Names and addresses the node certificate covers besides localhost, 127.0.0.1 and ::1. */
  readonly hosts?: readonly string[];
  /** How long the CA and the node certificate are valid (default 30 days). */
  readonly days?: number;
}

const LOOPBACK_HOSTS = ['localhost', '127.0.0.1', '::1'] as const;
const DAYS_DEFAULT = 30;
const DAYS_MAX = 3650;
/** Certificates closer than this to expiry are minted again: a cluster launched now should outlive the day. */
const REUSE_VALIDITY_MS_MIN = 24 * 60 * 60 * 1000;
/** One openssl run takes milliseconds (EC keys); this only stops a hung one from hanging a launch. */
const OPENSSL_TIMEOUT_MS = 15_000;
const OPENSSL_OUTPUT_BYTES_MAX = 1024 * 1024;
/** A DNS name as a SAN entry: no commas, spaces or colons, which would end or retype the entry in openssl's config. */
const DNS_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]{0,252})$/;

const FILE_NAMES = { ca: 'ca.pem', caKey: 'ca-key.pem', cert: 'node.pem', key: 'node-key.pem' } as const;

/**
 * Makes (or reuses) a CA and a node certificate in `dir`. A relaunch reuses what is there while it
 * still covers `hosts` and stays valid for more than a day, and keeps a still-valid CA even when the
 * node certificate must be minted again: clients that trust `ca.pem` keep trusting the cluster.
 */
export async function makeTestCertificates(dir: string, options: TestCertificateOptions = {}): Promise<TestCertificates> {
  const days = options.days ?? DAYS_DEFAULT;
  if (!Number.isInteger(days) || days < 2 || days > DAYS_MAX) throw new Error(`days must be an integer from 2 to ${DAYS_MAX}, not ${days}`);
  const hosts = certificateHosts(options.hosts ?? []);
  const root = resolve(dir);
  // Private keys live here: nobody else may list or read the directory.
  await mkdir(root, { recursive: true, mode: 0o700 });
  await chmod(root, 0o700);
  const files = {
    dir: root,
    caFile: join(root, FILE_NAMES.ca),
    caKeyFile: join(root, FILE_NAMES.caKey),
    certFile: join(root, FILE_NAMES.cert),
    keyFile: join(root, FILE_NAMES.key),
  };
  const existing = await readExisting(files);
  const ca = existing === undefined ? undefined : usableCa(existing);
  if (ca !== undefined && existing !== undefined && nodeCertificateCovers(existing, ca, hosts)) {
    return { dir: root, caFile: files.caFile, certFile: files.certFile, keyFile: files.keyFile };
  }
  await mint(files, hosts, days, ca !== undefined);
  return { dir: root, caFile: files.caFile, certFile: files.certFile, keyFile: files.keyFile };
}

interface CertificateFiles {
  readonly dir: string;
  readonly caFile: string;
  readonly caKeyFile: string;
  readonly certFile: string;
  readonly keyFile: string;
}

interface ExistingPems {
  readonly ca: string | undefined;
  readonly caKey: string | undefined;
  readonly cert: string | undefined;
  readonly key: string | undefined;
}

/** localhost, 127.0.0.1, ::1 and `hosts`, once each; an entry that is neither an IP nor a DNS name is refused. */
function certificateHosts(hosts: readonly string[]): string[] {
  for (const host of hosts) {
    if (isIP(host) === 0 && !DNS_NAME.test(host)) throw new Error(`${JSON.stringify(host)} is neither an IP address nor a DNS name`);
  }
  return [...new Set([...LOOPBACK_HOSTS, ...hosts])];
}

async function readExisting(files: CertificateFiles): Promise<ExistingPems | undefined> {
  const [ca, caKey, cert, key] = await Promise.all([files.caFile, files.caKeyFile, files.certFile, files.keyFile].map(readIfPresent));
  if (ca === undefined && caKey === undefined) return undefined;
  return { ca, caKey, cert, key };
}

async function readIfPresent(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

/** The CA in `existing` when it parses, matches its key and stays valid for more than a day. */
function usableCa(existing: ExistingPems): X509Certificate | undefined {
  if (existing.ca === undefined || existing.caKey === undefined) return undefined;
  try {
    const ca = new X509Certificate(existing.ca);
    if (!ca.ca || !ca.checkPrivateKey(createPrivateKey(existing.caKey))) return undefined;
    return validLongEnough(ca) ? ca : undefined;
  } catch {
    return undefined;
  }
}

/** Whether the node certificate in `existing` was issued by `ca`, matches its key, lasts, and covers every host. */
function nodeCertificateCovers(existing: ExistingPems, ca: X509Certificate, hosts: readonly string[]): boolean {
  if (existing.cert === undefined || existing.key === undefined) return false;
  try {
    const cert = new X509Certificate(existing.cert);
    if (!cert.checkIssued(ca) || !cert.verify(ca.publicKey)) return false;
    if (!cert.checkPrivateKey(createPrivateKey(existing.key)) || !validLongEnough(cert)) return false;
    return hosts.every((host) => (isIP(host) === 0 ? cert.checkHost(host, { subject: 'never' }) !== undefined : cert.checkIP(host) !== undefined));
  } catch {
    return false;
  }
}

function validLongEnough(certificate: X509Certificate): boolean {
  const validToMs = Date.parse(certificate.validTo);
  return Number.isFinite(validToMs) && validToMs - Date.now() > REUSE_VALIDITY_MS_MIN;
}

/**
 * Mints into a scratch directory inside `dir`, then moves the files into place: a run that dies
 * halfway leaves no mismatched set that the next run would take for a good one (it checks anyway).
 */
async function mint(files: CertificateFiles, hosts: readonly string[], days: number, keepCa: boolean): Promise<void> {
  const scratch = await mkdtemp(join(files.dir, '.minting-'));
  try {
    const config = join(scratch, 'openssl.cnf');
    await writeFile(config, opensslConfig(hosts), { mode: 0o600 });
    const caFile = keepCa ? files.caFile : join(scratch, FILE_NAMES.ca);
    const caKeyFile = keepCa ? files.caKeyFile : join(scratch, FILE_NAMES.caKey);
    if (!keepCa) {
      await newPrivateKey(caKeyFile);
      await openssl([
        'req',
        '-config',
        config,
        '-new',
        '-x509',
        '-key',
        caKeyFile,
        '-sha256',
        '-days',
        String(days),
        '-subj',
        '/CN=quorumq test CA',
        '-extensions',
        'ca_ext',
        '-out',
        caFile,
      ]);
    }
    const keyFile = join(scratch, FILE_NAMES.key);
    const requestFile = join(scratch, 'node.csr');
    const certFile = join(scratch, FILE_NAMES.cert);
    await newPrivateKey(keyFile);
    await openssl(['req', '-config', config, '-new', '-key', keyFile, '-subj', '/CN=quorumq node', '-out', requestFile]);
    const serial = `0x${randomBytes(16).toString('hex')}`;
    await openssl([
      'x509',
      '-req',
      '-in',
      requestFile,
      '-CA',
      caFile,
      '-CAkey',
      caKeyFile,
      '-set_serial',
      serial,
      '-sha256',
      '-days',
      String(days),
      '-extfile',
      config,
      '-extensions',
      'node_ext',
      '-out',
      certFile,
    ]);
    if (!keepCa) {
      await rename(caKeyFile, files.caKeyFile);
      await rename(caFile, files.caFile);
    }
    await rename(keyFile, files.keyFile);
    await rename(certFile, files.certFile);
  } finally {
    await rm(scratch, { recursive: true, force: true });
  }
}

async function newPrivateKey(path: string): Promise<void> {
  await openssl(['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', path]);
  // openssl's own mode depends on its version and the umask; a key is for its owner only.
  await chmod(path, 0o600);
}

/**
 * Our own config, so that neither the machine's openssl.cnf nor its absence changes what is minted.
 * The CA may sign end-entity certificates only (pathlen 0); the node certificate serves both ends of TLS.
 */
function opensslConfig(hosts: readonly string[]): string {
  const alternativeNames = hosts.map((host) => (isIP(host) === 0 ? `DNS:${host}` : `IP:${host}`)).join(', ');
  return [
    '[req]',
    'distinguished_name = req_dn',
    'prompt = no',
    '[req_dn]',
    '[ca_ext]',
    'basicConstraints = critical, CA:TRUE, pathlen:0',
    'keyUsage = critical, keyCertSign, cRLSign',
    'subjectKeyIdentifier = hash',
    '[node_ext]',
    'basicConstraints = critical, CA:FALSE',
    'keyUsage = critical, digitalSignature',
    'extendedKeyUsage = serverAuth, clientAuth',
    `subjectAltName = ${alternativeNames}`,
    'subjectKeyIdentifier = hash',
    'authorityKeyIdentifier = keyid',
    '',
  ].join('\n');
}

/** Runs the openssl CLI (no shell), and turns its failure into an error carrying what it printed. */
function openssl(args: readonly string[]): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    execFile('openssl', args, { timeout: OPENSSL_TIMEOUT_MS, maxBuffer: OPENSSL_OUTPUT_BYTES_MAX, encoding: 'utf8' }, (error, _stdout, stderr) => {
      if (error === null) return resolvePromise();
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return reject(new Error('cannot make TLS certificates: the openssl command is not installed (or not on PATH)', { cause: error }));
      const why = error.killed ? `killed after ${OPENSSL_TIMEOUT_MS} ms` : `exit code ${String(code)}`;
      reject(new Error(`openssl ${args[0]} failed (${why}): ${stderr.trim() || error.message}`, { cause: error }));
    });
  });
}
