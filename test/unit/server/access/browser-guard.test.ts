import type { IncomingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BrowserGuard, type BrowserRequestHeaders } from '../../../../src/server/access/browser-guard.ts';

const guard = new BrowserGuard({ port: 7001, allowedHosts: ['0.0.0.0', 'node-1.internal', 'Queue.Example.COM.', '[fd00::7]'] });

function allowed(headers: BrowserRequestHeaders): boolean {
  return guard.check(headers) === undefined;
}

// Goal: a web page can drive the node neither by calling it from another site nor by DNS
// rebinding, while curl, server-side clients and the node's own pages go through untouched.
describe('browser guard: Host', () => {
  it('allows a request without Host, as HTTP/1.0 tools send', () => {
    expect(allowed({})).toBe(true);
  });

  it('allows IP addresses, v4 and v6, with or without a port', () => {
    for (const host of ['127.0.0.1:7001', '127.0.0.1', '10.1.2.3:80', '[::1]:7001', '[::1]', '[::ffff:127.0.0.1]:7001', '[FE80::1]:7001']) {
      expect(allowed({ host }), host).toBe(true);
    }
  });

  it('allows loopback names and configured names, ignoring case and a trailing dot', () => {
    for (const host of [
      'localhost:7001',
      'LOCALHOST',
      'localhost.:7001',
      'app.localhost:7001',
      'node-1.internal:7001',
      'queue.example.com',
      'QUEUE.example.com.:443',
    ]) {
      expect(allowed({ host }), host).toBe(true);
    }
  });

  it('refuses a rebound name (DNS rebinding)', () => {
    expect(guard.check({ host: 'evil.example:7001' })).toMatch(/evil\.example is not served here/);
    expect(allowed({ host: 'localhost.evil.example:7001' })).toBe(false);
    expect(allowed({ host: 'node-1.internal.evil.example' })).toBe(false);
    expect(allowed({ host: 'xlocalhost:7001' })).toBe(false);
  });

  it('refuses a malformed Host', () => {
    for (const host of [
      '',
      ':7001',
      '::1',
      '::1:7001',
      '[::1',
      '[::1]7001',
      '[::1]:',
      '[evil.example]:7001',
      '[127.0.0.1]',
      'localhost:',
      'localhost:x',
      'localhost:70000',
      'localhost:123456',
      'user@localhost',
      'local host',
      'localhost/x',
      'ex%41mple.com',
      'exämple.com',
    ]) {
      expect(allowed({ host }), JSON.stringify(host)).toBe(false);
    }
  });
});

describe('browser guard: Origin', () => {
  it('allows a request without Origin, as curl and server-side clients send', () => {
    expect(allowed({ host: '127.0.0.1:7001' })).toBe(true);
  });

  it("allows this node's own origins at its port", () => {
    for (const origin of [
      'http://127.0.0.1:7001',
      'https://127.0.0.1:7001',
      'http://127.8.9.10:7001',
      'http://localhost:7001',
      'http://LocalHost.:7001',
      'http://[::1]:7001',
      'http://[::ffff:127.0.0.1]:7001',
      'http://node-1.internal:7001',
      'http://queue.example.com:7001',
      'http://[fd00::7]:7001',
    ]) {
      expect(allowed({ host: '127.0.0.1:7001', origin }), origin).toBe(true);
    }
  });

  it('refuses another site', () => {
    expect(guard.check({ host: '127.0.0.1:7001', origin: 'http://evil.example' })).toMatch(/another site/);
    expect(allowed({ host: '127.0.0.1:7001', origin: 'http://evil.example:7001' })).toBe(false);
    expect(allowed({ origin: 'https://evil.example' })).toBe(false);
  });

  it('refuses a page on another port of this machine', () => {
    expect(guard.check({ host: 'localhost:7001', origin: 'http://localhost:8080' })).toMatch(/another site than port 7001/);
    expect(allowed({ host: '127.0.0.1:7001', origin: 'http://127.0.0.1:8080' })).toBe(false);
    expect(allowed({ host: '127.0.0.1:7001', origin: 'http://localhost' })).toBe(false);
    expect(allowed({ host: '127.0.0.1:7001', origin: 'https://localhost' })).toBe(false);
  });

  it('refuses a page served from some other IP address at our port', () => {
    expect(allowed({ host: '127.0.0.1:7001', origin: 'http://203.0.113.9:7001' })).toBe(false);
    expect(allowed({ host: '127.0.0.1:7001', origin: 'http://[2001:db8::9]:7001' })).toBe(false);
  });

  it('allows a same-origin request to an address or port it was reached at, as through a proxy', () => {
    expect(allowed({ host: '10.0.0.5:7001', origin: 'http://10.0.0.5:7001' })).toBe(true);
    expect(allowed({ host: 'queue.example.com', origin: 'https://queue.example.com' })).toBe(true);
    expect(allowed({ host: 'queue.example.com:8443', origin: 'https://queue.example.com:8443' })).toBe(true);
    expect(allowed({ host: 'queue.example.com:8443', origin: 'https://queue.example.com:9443' })).toBe(false);
    expect(allowed({ host: '[2001:db8::5]:7001', origin: 'http://[2001:db8::5]:7001' })).toBe(true);
    expect(allowed({ host: '10.0.0.5:7001', origin: 'http://10.0.0.6:7001' })).toBe(false);
  });

  it('refuses a null Origin and anything that is not an http(s) origin', () => {
    expect(guard.check({ host: '127.0.0.1:7001', origin: 'null' })).toMatch(/null/);
    for (const origin of [
      '',
      'localhost:7001',
      '127.0.0.1:7001',
      'file:///etc/passwd',
      'chrome-extension://abc',
      'ws://127.0.0.1:7001',
      'http://127.0.0.1:7001/page',
      'http://127.0.0.1:7001?x',
      'http://user@127.0.0.1:7001',
      'http://',
      'http://[::1',
      'http://a b',
      'http://ex!ample:7001',
    ]) {
      expect(allowed({ host: '127.0.0.1:7001', origin }), JSON.stringify(origin)).toBe(false);
    }
  });

  it('checks Host and Origin both', () => {
    expect(allowed({ host: 'evil.example:7001', origin: 'http://127.0.0.1:7001' })).toBe(false);
    expect(allowed({ host: 'evil.example:7001', origin: 'http://evil.example:7001' })).toBe(false);
  });
});

describe('browser guard: Sec-Fetch-Site', () => {
  it('refuses cross-site whatever the Origin says', () => {
    expect(guard.check({ host: '127.0.0.1:7001', origin: 'http://127.0.0.1:7001', 'sec-fetch-site': 'cross-site' })).toMatch(/cross-site/);
    expect(allowed({ 'sec-fetch-site': 'Cross-Site' })).toBe(false);
    expect(allowed({ 'sec-fetch-site': 'same-origin, cross-site' })).toBe(false);
  });

  it('lets the other values through to the Origin check', () => {
    for (const site of ['same-origin', 'same-site', 'none']) {
      expect(allowed({ host: '127.0.0.1:7001', origin: 'http://127.0.0.1:7001', 'sec-fetch-site': site })).toBe(true);
      expect(allowed({ host: '127.0.0.1:7001', origin: 'http://localhost:8080', 'sec-fetch-site': site })).toBe(false);
    }
  });
});

describe('browser guard: untrusted input', () => {
  it('refuses over-long values', () => {
    const longName = `${'a'.repeat(510)}.localhost`;
    expect(allowed({ host: longName })).toBe(false);
    expect(allowed({ host: '127.0.0.1', origin: `http://${longName}:7001` })).toBe(false);
    expect(allowed({ 'sec-fetch-site': 'x'.repeat(513) })).toBe(false);
    expect(allowed({ host: `a.localhost${' '.repeat(10_000_000)}` })).toBe(false);
  });

  it('refuses repeated headers and values that are not text', () => {
    expect(allowed({ host: ['127.0.0.1', '127.0.0.1'] })).toBe(false);
    expect(allowed({ origin: ['http://127.0.0.1:7001'] })).toBe(false);
    expect(allowed({ host: 7001 } as unknown as BrowserRequestHeaders)).toBe(false);
  });

  it('takes Node request headers as they are', () => {
    const headers: IncomingHttpHeaders = { host: '127.0.0.1:7001', origin: 'http://127.0.0.1:7001', 'sec-fetch-site': 'same-origin' };
    expect(guard.check(headers)).toBeUndefined();
  });

  it('never throws, and answers undefined or a short reason, whatever the headers', () => {
    const text = fc.oneof(
      fc.string({ maxLength: 600 }),
      fc.string({ unit: 'binary', maxLength: 80 }),
      fc.webUrl({ withQueryParameters: true, withFragments: true }),
      fc.webUrl().map((url) => new URL(url).origin),
      fc.domain(),
      fc.ipV4().map((address) => `${address}:7001`),
      fc.ipV6().map((address) => `[${address}]:7001`),
      fc.constantFrom('null', '[', ']', ':', '[::1]:', 'http://[::1]:99999', 'cross-site'),
    );
    const headers = fc.record({ host: text, origin: text, 'sec-fetch-site': text }, { requiredKeys: [] });
    fc.assert(
      fc.property(headers, (generated) => {
        const reason = guard.check(generated);
        expect(reason === undefined || (typeof reason === 'string' && reason.length < 700)).toBe(true);
      }),
      { numRuns: 5000 },
    );
  });

  it('never lets a generated name through that is not ours', () => {
    const foreign = fc.domain().filter((name) => !/(^|\.)localhost$/i.test(name) && !['node-1.internal', 'queue.example.com'].includes(name.toLowerCase()));
    fc.assert(
      fc.property(foreign, fc.integer({ min: 1, max: 65535 }), (name, port) => {
        expect(allowed({ host: `${name}:${port}` })).toBe(false);
        expect(allowed({ host: '127.0.0.1:7001', origin: `http://${name}:${port}` })).toBe(false);
      }),
      { numRuns: 2000 },
    );
  });

  it('refuses malformed configured names at construction', () => {
    expect(() => new BrowserGuard({ port: 7001, allowedHosts: ['ok.example', 'bad name'] })).toThrow(
      /allowed hosts must be host names or IP addresses: "bad name"/,
    );
  });
});

// Goal: nodes dial each other by any name (a service's, an address); only browsers are kept off peer links.
describe('peer link upgrades', () => {
  const guard = new BrowserGuard({ port: 7001, allowedHosts: [] });
  it('serves a peer that dialed by any name, and refuses anything a browser sends', () => {
    expect(guard.checkPeerUpgrade({ host: 'queue-1.queues.svc.cluster.local:7001' })).toBeUndefined();
    expect(guard.checkPeerUpgrade({ host: 'vm:7001', origin: 'http://127.0.0.1:7001' })).toMatch(/browser/);
    expect(guard.checkPeerUpgrade({ host: '127.0.0.1:7001', 'sec-fetch-site': 'same-origin' })).toMatch(/browser/);
  });
});
