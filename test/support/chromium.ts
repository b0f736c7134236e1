import { execFileSync } from 'node:child_process';

import { launch, type Browser, type Page } from 'puppeteer-core';

/**
 * The system Chromium (Debian's "chromium" package); nothing is downloaded. Tests
 * that need it fail, rather than skip, when it is missing.
 */
export function chromiumPath(): string {
  const configured = process.env['CHROMIUM_PATH'];
  if (configured) return configured;

  for (const name of ['chromium', 'chromium-browser']) {
    try {
      return execFileSync('which', [name], { encoding: 'utf8' }).trim();
    } catch {
      // Not this name; try the next.
    }
  }
  throw new Error(
    'Chromium is not installed: run `bash scripts/ensure-chromium.sh` (or set CHROMIUM_PATH)',
  );
}

export async function launchChromium(): Promise<Browser> {
  return launch({
    executablePath: chromiumPath(),
    headless: true,
    // Tests run as root in CI containers, where Chromium's sandbox cannot start.
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--no-default-browser-check'],
  });
}

/**
 * Lets the page reach the server under test only: a request to any other host
 * is aborted and remembered, so a test can prove the page needs nothing else.
 */
export async function confineToLoopback(page: Page): Promise<string[]> {
  const refused: string[] = [];
  await page.setRequestInterception(true);
  page.on('request', (request) => {
    const { protocol, hostname } = new URL(request.url());
    const local = hostname === '127.0.0.1' || hostname === 'localhost';
    if (local || protocol === 'data:') {
      void request.continue();
      return;
    }
    refused.push(request.url());
    void request.abort();
  });
  return refused;
}
