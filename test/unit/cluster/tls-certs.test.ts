import { X509Certificate } from 'node:crypto';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, request, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { makeTestCertificates } from '../../../cluster/tls-certs.ts';

// Goal: the certificates a local cluster is launched with really work for TLS both ways (a node
// serving, a node or client presenting the same certificate as a client), cover the hosts asked
// for, and survive a relaunch unchanged, so that clients that trusted the CA keep trusting it.
describe('makeTestCertificates', () => {
  let dir: string;
  let server: Server | undefined;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quorumq-tls-certs-'));
  });

  afterEach(async () => {
    if (server !== undefined) {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server!.close(() => resolve()));
      server = undefined;
    }
    await rm(dir, { recursive: true, force: true });
  });

  it('makes a CA and a node certificate that verify each other over TLS, as server and as client', async () => {
    const certificates = await makeTestCertificates(join(dir, 'certs'));
    const [ca, cert, key] = await Promise.all([certificates.caFile, certificates.certFile, certificates.keyFile].map((file) => readFile(file)));
    const seenByServer: { authorized: boolean; peerSubject: string }[] = [];
    server = createServer({ cert, key, ca, requestCert: true, rejectUnauthorized: false }, (incoming: IncomingMessage, response: ServerResponse) => {
      const socket = incoming.socket as TLSSocket;
      seenByServer.push({ authorized: socket.authorized, peerSubject: String(socket.getPeerCertificate().subject?.CN) });
      response.end('hello');
    });
    const port = await listen(server);

    // No rejectUnauthorized on the client: it verifies the server against `ca` as any client would.
    const answer = await new Promise<{ status: number | undefined; body: string; serverVerified: boolean }>((resolve, reject) => {
      const outgoing = request({ host: '127.0.0.1', port, path: '/', ca, cert, key, agent: false }, (response) => {
        const serverVerified = (response.socket as TLSSocket).authorized;
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve({ status: response.statusCode, body, serverVerified }));
      });
      outgoing.on('error', reject);
      outgoing.end();
    });

    expect(answer).toEqual({ status: 200, body: 'hello', serverVerified: true });
    expect(seenByServer).toEqual([{ authorized: true, peerSubject: 'quorumq node' }]);
  });

  it('covers localhost, the loopback addresses and every host asked for, each by its type', async () => {
    const certificates = await makeTestCertificates(dir, { hosts: ['node-a.example', '10.1.2.3', 'fd00::7'] });
    const certificate = new X509Certificate(await readFile(certificates.certFile));
    const alternativeNames = certificate.subjectAltName?.split(', ') ?? [];

    expect(alternativeNames).toEqual(expect.arrayContaining(['DNS:localhost', 'IP Address:127.0.0.1', 'DNS:node-a.example', 'IP Address:10.1.2.3']));
    expect(certificate.checkIP('::1')).toBe('::1');
    expect(certificate.checkIP('fd00::7')).toBe('fd00::7');
    expect(certificate.checkHost('node-a.example', { subject: 'never' })).toBe('node-a.example');
    expect(certificate.checkIssued(new X509Certificate(await readFile(certificates.caFile)))).toBe(true);
  });

  it('keeps its files private: the directory 0700, the keys 0600', async () => {
    const certificates = await makeTestCertificates(dir);
    const modeOf = async (path: string) => (await stat(path)).mode & 0o777;

    expect(await modeOf(certificates.dir)).toBe(0o700);
    expect(await modeOf(certificates.keyFile)).toBe(0o600);
    expect(await modeOf(join(certificates.dir, 'ca-key.pem'))).toBe(0o600);
  });

  it('reuses the certificates on a second call that asks for no new host', async () => {
    const first = await makeTestCertificates(dir, { hosts: ['node-a.example'] });
    const [caBefore, certBefore] = await Promise.all([readFile(first.caFile, 'utf8'), readFile(first.certFile, 'utf8')]);

    const second = await makeTestCertificates(dir, { hosts: ['node-a.example'] });

    expect(second).toEqual(first);
    expect(await readFile(second.caFile, 'utf8')).toBe(caBefore);
    expect(await readFile(second.certFile, 'utf8')).toBe(certBefore);
  });

  it('keeps the CA but mints a new node certificate when a new host is asked for', async () => {
    const first = await makeTestCertificates(dir);
    const [caBefore, certBefore] = await Promise.all([readFile(first.caFile, 'utf8'), readFile(first.certFile, 'utf8')]);

    const second = await makeTestCertificates(dir, { hosts: ['node-b.example'] });
    const certificate = new X509Certificate(await readFile(second.certFile));

    expect(await readFile(second.caFile, 'utf8')).toBe(caBefore);
    expect(await readFile(second.certFile, 'utf8')).not.toBe(certBefore);
    expect(certificate.checkHost('node-b.example', { subject: 'never' })).toBe('node-b.example');
  });

  it('refuses a host that is neither an IP address nor a DNS name', async () => {
    await expect(makeTestCertificates(dir, { hosts: ['a, DNS:evil.example'] })).rejects.toThrow(/neither an IP address nor a DNS name/);
  });
});

async function listen(server: Server): Promise<number> {
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return (server.address() as AddressInfo).port;
}
