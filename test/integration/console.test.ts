import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { type Browser, chromium, type Page } from 'playwright-core';
import { afterAll, describe, expect, it } from 'vitest';
import { makeSecureSetup } from '../../cluster/secure-setup.ts';
import { clusterForSuite, type TestCluster, waitFor } from './cluster-harness.ts';

/**
 * The page's document, as seen by the functions this file hands to the browser (`waitForFunction`,
 * `evaluate`): the project compiles without the DOM's types, so just what they use.
 */
interface Canvas2d {
  getImageData(x: number, y: number, width: number, height: number): { data: ArrayLike<number> };
}
declare const document: {
  querySelector(selector: string): { textContent: string | null } | null;
  querySelectorAll(selector: string): { length: number };
  getElementById(id: string): { textContent: string | null; width: number; height: number; getContext(kind: '2d'): Canvas2d | null } | null;
};

/**
 * Debian's `chromium` (CI installs it: .ci/run), or `CHROMIUM_PATH`. Missing, the test fails: a
 * console nobody opened in a browser is not tested.
 */
function chromiumPath(): string {
  const candidates = process.env.CHROMIUM_PATH ? [process.env.CHROMIUM_PATH] : (process.env.PATH ?? '').split(delimiter).map((dir) => join(dir, 'chromium'));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  throw new Error('no chromium found (set CHROMIUM_PATH, or apt-get install chromium): the console test needs a real browser');
}

/** The text of one count cell of a queue's row, as the page shows it now. */
function countShown(page: Page, queue: string, field: string): Promise<string | null> {
  return page.locator(`#queues tr[data-queue="${queue}"] td[data-field="${field}"]`).textContent({ timeout: 1000 });
}

/** Waits until the page shows `expected` in a queue's count cell (the page polls every second). */
async function waitForCount(page: Page, queue: string, field: string, expected: string): Promise<void> {
  await page.waitForFunction(
    ([name, key, value]) => document.querySelector(`#queues tr[data-queue="${name}"] td[data-field="${key}"]`)?.textContent === value,
    [queue, field, expected] as const,
    { timeout: 20_000, polling: 100 },
  );
}

/** A page of its own (its own session storage), whose script errors and CSP refusals are collected. */
async function newPage(browser: Browser, errors: string[]): Promise<Page> {
  const page = await browser.newPage();
  page.on('pageerror', (error) => errors.push(`page error: ${error.message}`));
  page.on('console', (message) => {
    // A 401 before the token is given is expected; a script error or a CSP refusal is not.
    if (message.type() === 'error' && !/status of 401/.test(message.text())) errors.push(`console: ${message.text()}`);
  });
  return page;
}

/** Opens a node's console and gives it the admin token it asks for. */
async function openConsole(page: Page, test: TestCluster, node: number): Promise<void> {
  await page.goto(test.url(node, '/dashboard'));
  await page.locator('#token-form').waitFor({ state: 'visible', timeout: 15_000 });
  await page.fill('#token', test.access.token!);
  await page.click('#token-form button[type="submit"]');
  await page.locator('#token-form').waitFor({ state: 'hidden', timeout: 5000 });
}

// Goal: an operator opens the console in a real browser on a node that wants tokens, sees a queue's
// dead letters with their bodies and attempt history, redrives them with the admin token, watches the
// counts change, and sees each follower's replication lag on the leader; all under the page's CSP.
describe('console in headless Chromium', () => {
  const suite = clusterForSuite(3, [], (dataRoot) => makeSecureSetup(join(dataRoot, 'secure'), { auth: true }));
  let browser: Browser | undefined;
  let test: TestCluster;
  const pageErrors: string[] = [];

  afterAll(async () => {
    await browser?.close().catch(() => undefined);
  });

  it('shows dead letters, redrives them on a click, and shows replication lag on the leader', async () => {
    test = suite();
    // Launched in the test, not in a hook: a missing browser then counts as a failed test, not a skipped one.
    browser = await chromium.launch({ executablePath: chromiumPath(), headless: true, args: ['--no-sandbox'] });
    expect((await test.request(0, 'PUT', '/queues/orders', { maxDeliveries: 1 })).status).toBe(201);
    for (let i = 0; i < 3; i++) await test.enqueue(0, 'orders', { order: i, note: '<b>not markup</b>' }, `order-${i}`);
    const received = await test.request(0, 'POST', '/queues/orders/receive', { max: 3, waitMs: 5000 });
    expect(received.body.messages).toHaveLength(3);
    const nacked = await test.request(0, 'POST', '/queues/orders/nack', {
      receipts: received.body.messages.map((message: { receipt: string }) => message.receipt),
      error: 'payment service down',
    });
    expect(nacked.body.nacked).toBe(3);
    await waitFor(
      async () => ((await test.request(0, 'GET', '/queues/orders.dlq?stale=1')).body?.ready === 3 ? true : undefined),
      15_000,
      'three dead letters in orders.dlq on node 0',
    );

    // A follower's console: its reads are its own replica's, its actions go to the leader.
    const leader = await test.waitForLeader();
    const follower = (leader + 1) % 3;
    const page = await newPage(browser!, pageErrors);
    const dialogs: string[] = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      void dialog.accept();
    });
    await openConsole(page, test, follower);

    // The counts as the page shows them: three dead-lettered from orders, three ready in its DLQ.
    await waitForCount(page, 'orders', 'dead', '3');
    await waitForCount(page, 'orders.dlq', 'ready', '3');
    expect(await countShown(page, 'orders', 'ready')).toBe('0');
    expect(await page.locator('#lag-note').textContent()).toMatch(/^Only the leader knows/);

    // The DLQ's messages: bodies as text (never markup), where they came from, and their attempts.
    await page.click('#queues tr[data-queue="orders.dlq"] button');
    await page.waitForFunction(() => document.querySelectorAll('#messages tbody tr[data-id]').length === 3, undefined, { timeout: 10_000 });
    const rows = await page.locator('#messages tbody tr[data-id]').allTextContents();
    expect(rows.join('\n')).toContain('<b>not markup</b>');
    expect(rows.every((row) => row.includes('orders (maxDeliveries, 1 attempt)'))).toBe(true);
    expect(await page.locator('#messages b').count()).toBe(0);
    await page.click('#messages tbody tr[data-id] button');
    await page.waitForFunction(() => /payment service down/.test(document.querySelector('#message-history tbody')?.textContent ?? ''), undefined, {
      timeout: 10_000,
    });
    expect(await page.locator('#message-history tbody tr').first().textContent()).toMatch(/^orders1.*nacked/);

    // Charts are drawn: the selected queue's depth chart has ink on it.
    const inked = await page.evaluate(() => {
      const canvas = document.getElementById('depth-chart')!;
      const pixels = canvas.getContext('2d')!.getImageData(0, 0, canvas.width, canvas.height).data;
      let count = 0;
      for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) count++;
      return count;
    });
    expect(inked).toBeGreaterThan(100);

    // Redrive, confirmed in the dialog: the DLQ empties and orders has its three messages back.
    await page.click('#action-redrive');
    await page.waitForFunction(() => /^Redrove 3 messages from orders\.dlq/.test(document.getElementById('action-result')?.textContent ?? ''), undefined, {
      timeout: 20_000,
    });
    expect(dialogs).toHaveLength(1);
    expect(dialogs[0]).toMatch(/^Redrive orders\.dlq\?/);
    await waitForCount(page, 'orders.dlq', 'ready', '0');
    await waitForCount(page, 'orders', 'ready', '3');
    await page.waitForFunction(() => document.querySelector('#messages tbody')?.textContent === 'no ready messages', undefined, { timeout: 10_000 });

    // On the leader, each follower's replication lag.
    await page.close();
    const leaderPage = await newPage(browser!, pageErrors);
    await openConsole(leaderPage, test, await test.waitForLeader());
    await leaderPage.waitForFunction(() => document.querySelectorAll('#replication tbody tr').length === 2, undefined, { timeout: 15_000 });
    const lags = await leaderPage.locator('#replication tbody tr td:nth-child(3)').allTextContents();
    expect(lags.map(Number).every((lag) => Number.isInteger(lag) && lag >= 0)).toBe(true);
    expect(await leaderPage.locator('#lag-chart').isVisible()).toBe(true);
    await leaderPage.close();

    expect(pageErrors).toEqual([]);
  });
});
