import { join } from 'node:path';
import { createContext, Script } from 'node:vm';
import { beforeEach, describe, expect, it } from 'vitest';
import { nodeRequest } from '../../cluster/node-http.ts';
import { makeSecureSetup } from '../../cluster/secure-setup.ts';
import { clusterForSuite, type TestCluster, waitFor } from './cluster-harness.ts';

/** Just enough of a DOM for the dashboard's script: elements that hold text, classes and children. */
class FakeElement {
  children: FakeElement[] = [];
  textContent = '';
  className = '';
  colSpan = 1;
  href = '';
  hidden = false;
  value = '';
  readonly listeners = new Map<string, (event: { preventDefault(): void }) => void>();
  constructor(readonly tag: string) {}
  addEventListener(type: string, listener: (event: { preventDefault(): void }) => void): void {
    this.listeners.set(type, listener);
  }
  appendChild(child: FakeElement): FakeElement {
    this.children.push(child);
    return child;
  }
  append(...children: FakeElement[]): void {
    this.children.push(...children);
  }
  replaceChildren(...children: FakeElement[]): void {
    this.children = children;
  }
  get text(): string {
    return this.children.length > 0 ? this.children.map((child) => child.text).join('|') : this.textContent;
  }
}

function fakeDocument() {
  const elements = new Map<string, FakeElement>();
  const element = (key: string) => elements.get(key) ?? elements.set(key, new FakeElement(key)).get(key)!;
  return {
    document: { title: '', getElementById: element, querySelector: element, createElement: (tag: string) => new FakeElement(tag) },
    element,
  };
}

/** Runs the served dashboard script against a node; `poll` runs its next refresh and waits for it. */
async function runDashboard(test: TestCluster, script: string) {
  const { document, element } = fakeDocument();
  const stored = new Map<string, string>();
  const sessionStorage = { getItem: (key: string) => stored.get(key) ?? null, setItem: (key: string, value: string) => stored.set(key, value) };
  let next: (() => void) | undefined;
  let polls = 0;
  const context = createContext({
    document,
    performance,
    sessionStorage,
    fetch: async (path: string, init?: { headers?: Record<string, string> }) => {
      const reply = await nodeRequest(test.cluster.nodes[0]!.address, path, { ...test.access, token: undefined }, { headers: init?.headers ?? {} });
      return { ok: reply.status < 400, status: reply.status, json: async () => JSON.parse(reply.text) as unknown };
    },
    setTimeout: (callback: () => void) => {
      polls++;
      next = callback;
    },
  });
  new Script(script).runInContext(context);
  const poll = async () => {
    const before = polls;
    next?.();
    await waitFor(async () => (polls > before ? true : undefined), 10_000, 'the dashboard to finish a refresh');
  };
  await waitFor(async () => (polls > 0 ? true : undefined), 10_000, "the dashboard's first refresh");
  return { element, poll, document };
}

// Goal: every node serves a live dashboard that renders the cluster and its queues from the API.
describe('dashboard', () => {
  const suite = clusterForSuite(1);
  let test: TestCluster;
  beforeEach(() => {
    test = suite();
  });

  it('serves the page and its files from every node, / leading to it', async () => {
    const root = await fetch(test.url(0, '/'), { redirect: 'manual' });
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/dashboard');
    const page = await fetch(test.url(0, '/dashboard'));
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/^text\/html/);
    expect(page.headers.get('content-security-policy')).toContain("default-src 'self'");
    const html = await page.text();
    for (const [path, type] of [
      ['/dashboard/dashboard.js', /^text\/javascript/],
      ['/dashboard/dashboard.css', /^text\/css/],
    ] as const) {
      expect(html).toContain(path);
      const asset = await fetch(test.url(0, path));
      expect(asset.status).toBe(200);
      expect(asset.headers.get('content-type')).toMatch(type);
    }
    const missing = await fetch(test.url(0, '/dashboard/nothing.js'));
    expect(missing.status).toBe(404);
  });

  it('renders this node, its members and each queue with its rates', async () => {
    await test.request(0, 'PUT', '/queues/shown', {});
    const script = await (await fetch(test.url(0, '/dashboard/dashboard.js'))).text();
    const { element, poll, document } = await runDashboard(test, script);
    expect(element('status').className).toBe('');
    expect(element('self').text).toMatch(/^role\|leader\|term\|\d+\|leader\|/);
    expect(document.title).toContain('(leader)');
    const members = element('#members tbody').children;
    expect(members).toHaveLength(1);
    expect(members[0]!.text).toMatch(/★\|.*\|alive\|voter\|up\|\d+$/);
    const before = element('#queues tbody').children.map((row) => row.text);
    expect(before).toEqual(['shown|0|0|0|0|0|0|–|–']);
    for (let i = 0; i < 5; i++) expect((await test.request(0, 'POST', '/queues/shown/messages', { body: i })).status).toBe(201);
    await poll();
    const [row] = element('#queues tbody').children.map((queue) => queue.text.split('|'));
    expect(row!.slice(0, 7)).toEqual(['shown', '5', '0', '0', '0', '5', '0']);
    expect(Number(row![7])).toBeGreaterThan(0);
    expect(row![8]).toBe('0.0');
  });
});

// Goal: with an auth file the page itself is served to anyone, and its data only with a token,
// which the page asks for and then sends with every poll.
describe('dashboard on a node that wants a token', () => {
  const suite = clusterForSuite(1, [], (dataRoot) => makeSecureSetup(join(dataRoot, 'secure'), { auth: true }));
  let test: TestCluster;
  beforeEach(() => {
    test = suite();
  });

  it('asks for a token, then renders with it', async () => {
    expect((await test.request(0, 'PUT', '/queues/guarded', {})).status).toBe(201);
    const page = await nodeRequest(test.cluster.nodes[0]!.address, '/dashboard/dashboard.js');
    expect(page.status).toBe(200);
    const { element, poll } = await runDashboard(test, page.text);
    expect(element('token-form').hidden).toBe(false);
    expect(element('status').className).toBe('down');
    expect(element('status').textContent).toMatch(/wants a token/);
    expect(element('#queues tbody').children).toHaveLength(0);
    element('token').value = test.access.token!;
    element('token-form').listeners.get('submit')!({ preventDefault: () => undefined });
    expect(element('token-form').hidden).toBe(true);
    await poll();
    expect(element('status').className).toBe('');
    expect(element('#queues tbody').children.map((row) => row.text.split('|')[0])).toEqual(['guarded']);
  });
});
