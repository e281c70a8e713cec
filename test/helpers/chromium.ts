/**
 * Debian's Chromium for the browser tests, driven by playwright-core (never a browser download):
 * headless, sandbox off (tests run as root in CI), and nothing that calls out to Google's servers
 * (this machine has no internet; the page under test must not need it either).
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export async function launchChromium(): Promise<Browser> {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `Chromium is missing (${CHROMIUM}), so this browser test cannot run: install it with 'sudo apt-get install -y chromium' ` +
        `(or run 'sudo bash scripts/ensure-chromium.sh'), or set CHROMIUM_PATH to a Chromium binary.`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
