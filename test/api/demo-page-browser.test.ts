/**
 * The demo page (src/demo/, served at /ide/demo.html) in Debian's Chromium driven by
 * playwright-core, with every request outside the local server blocked (it must work offline):
 *   - several questions go out as one HTTP request and one engine call;
 *   - each question's best answer is highlighted at the API's offsets: the highlighted DOM
 *     range's own offset in the context (measured in the page, from the DOM) equals `start`/`end`
 *     of the API's JSON, and its text equals `context.slice(start, end)`;
 *   - a long context scrolls to the answer, on a phone-width viewport, without horizontal overflow;
 *   - with "no answer" allowed, the empty answer is listed as such.
 * Screenshots go to .cache/screenshots/ (gitignored); docs/images/demo-page.png is one of them.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium } from '../helpers/chromium';
import { createApi } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { listen, type RunningServer } from '../../src/local-server';
import { DEMO_CONTEXT, DEMO_QUESTIONS } from '../../src/demo/example';
import { CountingEngine, fixedModel, loadTinyModel } from './helpers/engines';

const SCREENSHOT_DIR = path.resolve(__dirname, '..', '..', '.cache', 'screenshots');

let engine: CountingEngine;
let local: RunningServer;
let browser: Browser;
let origin: string;

beforeAll(async () => {
  const tiny = await loadTinyModel();
  engine = new CountingEngine(tiny.engine);
  const api = createApi({ config: apiConfig(), provider: fixedModel(engine, tiny.info) });
  if (!api.ideAssets?.get('demo.html')) throw new Error('The demo page is not built: run `npm run build:ide`');
  local = await listen(api, { port: 0, host: '127.0.0.1' });
  origin = new URL(local.url).origin;
  browser = await launchChromium();
}, 120_000);

afterAll(async () => {
  await browser?.close();
  await local?.close();
});
beforeEach(() => engine.reset());

interface Opened {
  page: Page;
  /** Requests to the GraphQL endpoint. */
  graphql: Array<{ method: string; body: string }>;
  offline: string[];
  errors: string[];
}

async function open(viewport: { width: number; height: number }, mobile = false): Promise<Opened> {
  const context = await browser.newContext({
    viewport,
    isMobile: mobile,
    hasTouch: mobile,
    deviceScaleFactor: mobile ? 2 : 1,
  });
  const page = await context.newPage();
  const opened: Opened = { page, graphql: [], offline: [], errors: [] };
  await page.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(origin)) return route.continue();
    opened.offline.push(url);
    return route.abort();
  });
  page.on('request', (request) => {
    if (request.url() === `${origin}/graphql`)
      opened.graphql.push({ method: request.method(), body: request.postData() ?? '' });
  });
  page.on('pageerror', (error) => opened.errors.push(error.message));
  await page.goto(`${origin}/ide/demo.html`);
  await page.locator('#ask').waitFor({ timeout: 30_000 });
  return opened;
}

/** Clicks Ask and returns the API's JSON for the batch (one array, one entry per question). */
async function askAndRead(
  page: Page,
): Promise<Array<{ data: { answers: Array<{ text: string; score: number; start: number; end: number }> } }>> {
  const response = page.waitForResponse((r) => r.url() === `${origin}/graphql` && r.request().method() === 'POST');
  await page.locator('#ask').click();
  const body = (await (await response).json()) as Array<{ data: { answers: Array<Record<string, unknown>> } }>;
  await page.locator('#results:not([hidden])').waitFor();
  // Apollo Client asks for __typename (its cache needs it); the rest is the API's answer.
  return body.map(({ data }) => ({
    data: { answers: data.answers.map(({ __typename, ...answer }) => answer as any) },
  }));
}

/**
 * The best answer's highlight as the DOM has it: its offset from the start of the context box
 * (the length of the text before it, measured with a Range), its text, and whether it is one
 * unbroken run. Nothing the page computed about offsets is read.
 */
async function highlighted(page: Page): Promise<{ start: number; end: number; text: string; runs: number }> {
  return page.evaluate(`(() => {
    const box = document.getElementById('context');
    const marks = [...box.querySelectorAll('mark[data-rank="0"]')];
    if (marks.length === 0) return null;
    const before = document.createRange();
    before.setStart(box, 0);
    before.setEndBefore(marks[0]);
    const span = document.createRange();
    span.setStartBefore(marks[0]);
    span.setEndAfter(marks[marks.length - 1]);
    const start = before.toString().length;
    const text = span.toString();
    return { start, end: start + text.length, text, runs: marks.length };
  })()`) as Promise<{ start: number; end: number; text: string; runs: number }>;
}

test('several questions: one HTTP request, one engine call, each best answer highlighted at the API offsets', async () => {
  const { page, graphql, offline, errors } = await open({ width: 1280, height: 900 });
  const body = await askAndRead(page);

  expect(graphql).toHaveLength(1);
  expect(JSON.parse(graphql[0]!.body)).toHaveLength(DEMO_QUESTIONS.length);
  expect(engine.calls).toEqual([DEMO_QUESTIONS.length]);
  await page.getByText(`${DEMO_QUESTIONS.length} questions · 1 HTTP request`).waitFor();

  for (const [i, question] of DEMO_QUESTIONS.entries()) {
    // The API's answers are the engine's own (computed here without the API or the page).
    const expected = await engine.inner.answer({ question, context: DEMO_CONTEXT, options: { topK: 3 } });
    const api = body[i]!.data.answers;
    expect(api).toEqual(expected);
    await page.locator('#tabs button').nth(i).click();
    const mark = await highlighted(page);
    expect(mark).toEqual({
      start: api[0]!.start,
      end: api[0]!.end,
      text: DEMO_CONTEXT.slice(api[0]!.start, api[0]!.end),
      runs: 1,
    });
    // Every answer is listed with its score.
    const items = await page.locator('#answers li').allInnerTexts();
    expect(items).toHaveLength(api.length);
    api.forEach((a, rank) => expect(items[rank]).toContain(`score ${a.score.toFixed(4)}`));
  }
  await page.locator('#tabs button').nth(0).click();
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'demo-page.png'), fullPage: true });
  expect(offline).toEqual([]);
  expect(errors).toEqual([]);
  await page.context().close();
}, 120_000);

test('phone width: a long context scrolls to the answer, nothing overflows sideways', async () => {
  const { page, offline, errors } = await open({ width: 390, height: 844 }, true);
  // Every token is far below the first screen of the context box: wherever the answer is, the
  // box must scroll to it.
  const context = `${'\n'.repeat(150)}The treasure is buried under the old lighthouse in Lisbon, Portugal, since 1755.`;
  await page.locator('#context-input').fill(context);
  await page.locator('#questions').fill('Where is the treasure?');
  const body = await askAndRead(page);
  expect(engine.calls).toEqual([1]);
  const api = body[0]!.data.answers[0]!;
  expect(api.start).toBeGreaterThanOrEqual(150);
  expect(await highlighted(page)).toEqual({
    start: api.start,
    end: api.end,
    text: context.slice(api.start, api.end),
    runs: 1,
  });

  const view = (await page.evaluate(`(() => {
    const box = document.getElementById('context');
    const b = box.getBoundingClientRect();
    const m = box.querySelector('mark[data-rank="0"]').getBoundingClientRect();
    return { scrollTop: box.scrollTop, visible: m.top >= b.top && m.bottom <= b.bottom, overflow: document.documentElement.scrollWidth - window.innerWidth };
  })()`)) as { scrollTop: number; visible: boolean; overflow: number };
  expect(view.scrollTop).toBeGreaterThan(0);
  expect(view.visible).toBe(true);
  expect(view.overflow).toBeLessThanOrEqual(0);
  await page.locator('#context').scrollIntoViewIfNeeded();
  await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'demo-page-phone.png') });
  expect(offline).toEqual([]);
  expect(errors).toEqual([]);
  await page.context().close();
}, 120_000);

test('with "no answer" allowed, the empty answer is shown as such', async () => {
  const { page, errors } = await open({ width: 1280, height: 900 });
  const context = 'In Paris.';
  const question = 'Where is it?';
  // For this input the tiny model ranks the empty answer among its 10 best (checked here, from
  // the engine directly, so the test cannot pass vacuously).
  const expected = await engine.inner.answer({
    question,
    context,
    options: { topK: 10, handleImpossibleAnswer: true },
  });
  expect(expected.filter((a) => a.text === '')).toEqual([{ text: '', score: expect.any(Number), start: 0, end: 0 }]);

  await page.locator('#context-input').fill(context);
  await page.locator('#questions').fill(question);
  await page.locator('#topk').fill('10');
  await page.locator('#impossible').check();
  const body = await askAndRead(page);
  expect(body[0]!.data.answers).toEqual(expected);
  const rank = expected.findIndex((a) => a.text === '');
  await expect(page.locator('#answers li.no-answer').allInnerTexts()).resolves.toEqual([
    `No answer in the context score ${expected[rank]!.score.toFixed(4)}`,
  ]);
  expect(await page.locator('#answers li').nth(rank).getAttribute('class')).toBe('no-answer');
  // It covers nothing: no highlight for its rank.
  expect(await page.locator(`#context mark[data-rank="${rank}"]`).count()).toBe(0);
  expect(errors).toEqual([]);
  await page.context().close();
}, 120_000);
