import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';

import { serve, type ServerType } from '@hono/node-server';
import type { Browser, Page } from 'puppeteer-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { closeHttpServer, QUEUE_NAMES, STAGES } from '@aso/shared';

import { confineToLoopback, launchChromium } from '../../../../test/support/chromium.ts';
import {
  inProcessApi,
  newToken,
  type InProcessApi,
} from '../../../../test/support/in-process-api.ts';
import { ADMIN_SESSION_COOKIE } from './session-cookie.ts';

const ARTIFACTS = join(import.meta.dirname, '../../../../test/artifacts');
const QUEUES = STAGES.map((stage) => QUEUE_NAMES[stage]);

const writer = newToken();
const reader = newToken();

let api: InProcessApi;
let server: ServerType;
let baseUrl: string;
let browser: Browser;

beforeAll(async () => {
  api = inProcessApi({ tokens: `read-write:${writer},read-only:${reader}` });
  server = await new Promise<ServerType>((resolve) => {
    const started = serve({ fetch: api.app.fetch, hostname: '127.0.0.1', port: 0 }, () => {
      resolve(started);
    });
  });
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await launchChromium();

  // A waiting capture job, so that the board has something to count.
  await api.app.request('/api/v1/migrations', {
    method: 'POST',
    headers: { authorization: `Bearer ${writer}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      pod_name: 'tf-train-0',
      source_node: 'worker-1',
      target_node: 'worker-2',
    }),
  });
}, 60_000);

afterAll(async () => {
  await browser.close();
  await closeHttpServer(server);
  await api.close();
});

/** Signs in through the sign-in page as an operator would, in a fresh browser context. */
async function signIn(token: string): Promise<{ page: Page; refused: string[] }> {
  const context = await browser.createBrowserContext();
  const page = await context.newPage();
  const refused = await confineToLoopback(page);
  await page.setViewport({ width: 1400, height: 900 });

  await page.goto(`${baseUrl}/admin`);
  await page.type('#token', token);
  await Promise.all([page.waitForNavigation(), page.click('button[type=submit]')]);
  expect(new URL(page.url()).pathname).toBe('/admin/queues');
  return { page, refused };
}

/** Waits until the sidebar and the overview both list every queue, loading done. */
async function waitForQueues(page: Page): Promise<void> {
  await page.waitForFunction(
    (names: string[]) => {
      // Runs in the page; the tests are typed without the DOM library.
      const page = globalThis as unknown as { document: { body: { innerText: string } } };
      const text = page.document.body.innerText;
      const listedTwice = (name: string) => text.split(name).length - 1 >= 2;
      return !text.includes('Loading') && names.every(listedTwice);
    },
    { timeout: 20_000 },
    QUEUES,
  );
}

describe('Bull Board at /admin/queues', () => {
  it('shows the three stage queues to a signed-in operator, from this server only', async () => {
    const { page, refused } = await signIn(writer);

    await waitForQueues(page);
    mkdirSync(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: join(ARTIFACTS, 'bull-board.png'), fullPage: true });

    const cookie = (await page.browserContext().cookies()).find(
      (candidate) => candidate.name === ADMIN_SESSION_COOKIE,
    );
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: 'Strict', path: '/' });
    expect(cookie?.value).not.toContain(writer);
    expect(refused).toEqual([]);

    // The same session opens the API reference and the description it links to.
    const reference = await page.goto(new URL('/api/v1/docs', page.url()).toString());
    expect(reference?.status()).toBe(200);
    const description = await page.goto(new URL('/api/v1/openapi.json', page.url()).toString());
    expect(description?.status()).toBe(200);
    const migrations = await page.goto(new URL('/api/v1/migrations', page.url()).toString());
    expect(migrations?.status()).toBe(401);
    await page.browserContext().close();
  }, 60_000);

  it('gives a read-only token a board that may look but not act', async () => {
    const { page } = await signIn(reader);

    await waitForQueues(page);
    await page.screenshot({ path: join(ARTIFACTS, 'bull-board-read-only.png'), fullPage: true });
    const write = await page.evaluate(async (queue: string) => {
      const answer = await fetch(`/admin/queues/api/queues/${queue}/clean/completed`, {
        method: 'PUT',
      });
      return answer.status;
    }, QUEUES[0] ?? '');

    expect(write).toBe(403);
    await page.browserContext().close();
  }, 60_000);

  it('refuses a browser without a session', async () => {
    const context = await browser.createBrowserContext();
    const page = await context.newPage();
    await confineToLoopback(page);

    const answer = await page.goto(`${baseUrl}/admin/queues`);

    expect(answer?.status()).toBe(401);
    await context.close();
  }, 30_000);
});
