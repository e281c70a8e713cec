/**
 * The self-hosted GraphiQL IDE in a real browser (Debian's Chromium driven by playwright-core;
 * never a browser download), with every network request outside the local server blocked: it
 * opens on the example `answer` query, runs it, and shows the engine's answer. A screenshot is
 * saved to .cache/screenshots/ (gitignored).
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { launchChromium } from '../helpers/chromium';
import { createApi } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { listen, type RunningServer } from '../../src/local-server';
import { EXAMPLE_QUERY } from '../../src/ide/example';
import { fixedModel, loadTinyModel, type TinyModel } from './helpers/engines';

const SCREENSHOT_DIR = path.resolve(__dirname, '..', '..', '.cache', 'screenshots');

let tiny: TinyModel;
let local: RunningServer;
let browser: Browser;

beforeAll(async () => {
  tiny = await loadTinyModel();
  // ideAssetsDir left to the default: the bundle `npm test` builds first (pretest).
  const api = createApi({ config: apiConfig(), provider: fixedModel(tiny.engine, tiny.info) });
  if (!api.ideAssets) throw new Error('The IDE bundle is missing: run `npm run build:ide`');
  local = await listen(api, { port: 0, host: '127.0.0.1' });
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await local?.close();
});

test('GraphiQL opens on the example query, runs it and shows the answer', async () => {
  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  const offline: string[] = [];
  const origin = new URL(local.url).origin;
  // Prove it works without internet: anything not served by our server fails.
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin) || url.startsWith('data:') || url.startsWith('blob:')) return route.continue();
    offline.push(url);
    return route.abort();
  });
  const pageErrors: string[] = [];
  page.on('pageerror', (error) => pageErrors.push(error.message));

  const started = Date.now();
  await page.goto(local.url);
  const editor = page.locator('.graphiql-query-editor');
  await editor.waitFor({ timeout: 60_000 });
  // The query editor holds the example (Monaco renders lines lazily: check a distinctive line).
  await page.getByText('Where is the Eiffel Tower?').first().waitFor({ timeout: 30_000 });
  const loadMs = Date.now() - started;

  const response = page.waitForResponse(
    (r) =>
      r.url() === local.url && r.request().method() === 'POST' && (r.request().postData() ?? '').includes('Example'),
  );
  await page.locator('.graphiql-execute-button').click();
  const body = await (await response).json();
  const expected = await tiny.engine.answer({
    question: 'Where is the Eiffel Tower?',
    context: /context: "([^"]+)"/.exec(EXAMPLE_QUERY)![1]!,
    options: { topK: 1 },
  });
  expect(body).toEqual({ data: { answer: expected[0] } });

  // ...and the page shows it in the response pane.
  const shownStart = `"start": ${expected[0]!.start}`;
  // A string predicate: it runs in the page, and this file is compiled without the DOM types.
  await page.waitForFunction(
    `document.querySelector('.graphiql-response')?.innerText.replace(/\\s+/g, ' ').includes(${JSON.stringify(shownStart)})`,
    undefined,
    { timeout: 30_000 },
  );
  const shown = (await page.locator('.graphiql-response').innerText()).replace(/\s+/g, ' ');
  expect(shown).toContain(`"text": "${expected[0]!.text}"`);
  expect(shown).toContain(`"end": ${expected[0]!.end}`);

  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'graphiql.png') });
  expect(offline).toEqual([]);
  expect(pageErrors).toEqual([]);
  console.log(
    `IDE ready in ${loadMs} ms; screenshot: ${path.relative(process.cwd(), path.join(SCREENSHOT_DIR, 'graphiql.png'))}`,
  );
}, 180_000);
