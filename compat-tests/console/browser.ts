// Debian's Chromium driven by playwright-core for the web console's tests: one page per
// console with the dialogs it opened and the errors it printed recorded, and screenshots
// written to test-artifacts/console/.

import { existsSync, mkdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';

const REPO = resolve(import.meta.dirname, '../..');
export const CHROMIUM = '/usr/bin/chromium';
export const ARTIFACTS = join(REPO, 'test-artifacts/console');
export const CONSOLE_DIR = join(REPO, 'dist/console');

/** Fails with what to do when the console was not built (npm run build). */
export function requireBuiltConsole(): void {
  if (!existsSync(join(CONSOLE_DIR, 'index.html')) || !existsSync(join(CONSOLE_DIR, 'app.js'))) {
    throw new Error(`the web console is not built in ${CONSOLE_DIR}: run npm run build`);
  }
}

export async function launchBrowser(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
}

export interface ConsolePage {
  readonly page: Page;
  /** Every alert/confirm/prompt the page opened (dismissed at once). */
  readonly dialogs: string[];
  /** Uncaught exceptions and console errors (other than HTTP error statuses the API answered on purpose). */
  readonly errors: string[];
  /** Opens a hash route: '#/topics/x'. */
  goto(hash: string): Promise<void>;
  /** A full-page screenshot to test-artifacts/console/<name>.png; returns its path. */
  shot(name: string): Promise<string>;
  close(): Promise<void>;
}

export async function openConsole(browser: Browser, httpPort: number): Promise<ConsolePage> {
  // UTC: the tests type times into datetime-local inputs
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 }, timezoneId: 'UTC' });
  const page = await context.newPage();
  page.setDefaultTimeout(15_000);
  const dialogs: string[] = [];
  const errors: string[] = [];
  page.on('dialog', (d) => {
    dialogs.push(`${d.type()}: ${d.message()}`);
    void d.dismiss().catch(() => {});
  });
  page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
  page.on('console', (m) => {
    // Chromium logs each non-2xx answer ("Failed to load resource: ... 409"): those are the API's to give
    if (m.type() === 'error' && !/Failed to load resource/.test(m.text())) errors.push(`console: ${m.text()}`);
  });
  const base = `http://127.0.0.1:${httpPort}/`;
  return {
    page,
    dialogs,
    errors,
    async goto(hash) {
      // a new document each time (a hash change alone would keep the page's state)
      await page.goto('about:blank');
      await page.goto(`${base}${hash}`);
    },
    async shot(name) {
      mkdirSync(ARTIFACTS, { recursive: true });
      const path = join(ARTIFACTS, `${name}.png`);
      await page.screenshot({ path, fullPage: true });
      return path;
    },
    close: () => context.close(),
  };
}

/** The text of every element a locator matches, as numbers (thousands separators dropped). */
export async function numbersOf(page: Page, selector: string): Promise<number[]> {
  const texts = await page.locator(selector).allTextContents();
  return texts.map((t) => Number(t.replace(/[,\s]/g, '')));
}
