/**
 * The work budget, measured: what one window costs at the worst geometry a request may ask for
 * (512 tokens, int8 and fp32, one thread as on a 1,769 MB Lambda), so the default budget can be
 * derived from the function's timeout; and a cheap request's latency while a maximal request (the
 * whole budget, 64 windows of 512 tokens) runs on the same server, against each alone.
 */
import { QuestionAnswerer } from '../../src/model/question-answerer';
import { DEFAULT_LIMITS } from '../../src/server/config';
import { cutWindows, planWindows } from '../../src/model/windows';
import { Floor } from '../floor';
import { ANSWER_QUERY, postGraphQL } from '../graphql-client';
import { makeInput } from '../inputs';
import type { ModelFolder } from '../model-folder';
import type { Settings } from '../report-types';
import { serveEngine } from '../server';
import { interleave, type Case, type Summary } from '../stats';

/** Lambda's timeout as serverless.yml sets it, in seconds: the budget must fit in half of it. */
export const FUNCTION_TIMEOUT_S = 29;
const WINDOWS_PER_SAMPLE = 4;

export interface BudgetResult {
  /** ms per window, by `precision/tokens`. */
  perWindow: Map<string, Summary>;
  /** Medians in ms: cheap alone, cheap beside maximal, maximal alone, maximal beside cheap. */
  fairness: { cheapAlone: number[]; cheapBeside: number[]; maximalAlone: number[]; maximalBeside: number[] };
  maximal: { windows: number; tokens: number; docStride: number };
}

const MAXIMAL_QUERY =
  'query($q: String!, $c: String!, $o: AnswerOptions) { answer(question: $q, context: $c, options: $o) { text score start end } }';

export async function runBudget(
  model: ModelFolder,
  settings: Settings,
  log: (m: string) => void,
): Promise<BudgetResult> {
  const limit = DEFAULT_LIMITS.maxRequestWindows;
  const long = await makeInput(model.tokenizer, { contextTokens: 3_500 }, 41);
  const [q, c] = await Promise.all([model.tokenizer.encode(long.question), model.tokenizer.encode(long.context)]);
  const layout = model.tokenizer.layout;

  // Part 1: one window of 512 and of 384 tokens, run alone on one thread.
  log('  budget: ms per window at 512 and 384 tokens, 1 thread');
  const floors = { int8: await Floor.create(model.onnx('int8'), 1), fp32: await Floor.create(model.onnx('fp32'), 1) };
  const cases: Case[] = [];
  for (const tokens of [512, 384]) {
    const windows = cutWindows(q.ids, c.ids, layout, { maxSeqLength: tokens, docStride: 128 }).slice(
      0,
      WINDOWS_PER_SAMPLE,
    );
    for (const precision of ['int8', 'fp32'] as const) {
      const feeds = floors[precision].feeds(windows);
      cases.push({ id: `${precision}/${tokens}`, run: () => floors[precision].run(feeds) });
    }
  }
  const rounds = settings.quick ? 4 : 10;
  const sampled = await interleave(cases, { rounds, warmup: settings.warmup, pauseMs: 50 });
  const perWindow = new Map<string, Summary>();
  for (const [id, summary] of sampled) {
    perWindow.set(id, {
      ...summary,
      median: summary.median / WINDOWS_PER_SAMPLE,
      min: summary.min / WINDOWS_PER_SAMPLE,
      max: summary.max / WINDOWS_PER_SAMPLE,
      byRound: summary.byRound?.map((x) => x / WINDOWS_PER_SAMPLE),
    });
  }
  await floors.int8.release();
  await floors.fp32.release();

  // Part 2: the maximal request (exactly the budget, every window 512 tokens) and a cheap one.
  let docStride = 0;
  for (let stride = 0; stride < 511; stride++) {
    try {
      if (planWindows(q.ids.length, c.ids.length, layout, { maxSeqLength: 512, docStride: stride }).count <= limit)
        docStride = stride;
    } catch {
      break;
    }
  }
  const plan = planWindows(q.ids.length, c.ids.length, layout, { maxSeqLength: 512, docStride });
  log(`  budget: maximal request ${plan.count} windows (docStride ${docStride}) beside a cheap one, 1 thread`);
  const engine = await QuestionAnswerer.create({
    model: model.onnx('int8'),
    tokenizerJson: model.tokenizerJson,
    config: model.config,
    intraOpNumThreads: 1,
  });
  const server = await serveEngine(engine);
  const cheapInput = await makeInput(model.tokenizer, { sequenceTokens: 48 }, 43);
  const cheap = () => postGraphQL(server.url, ANSWER_QUERY, { q: cheapInput.question, c: cheapInput.context });
  const maximal = () =>
    postGraphQL(server.url, MAXIMAL_QUERY, { q: long.question, c: long.context, o: { maxSeqLength: 512, docStride } });
  const timed = async (run: () => Promise<unknown>) => {
    const t0 = performance.now();
    await run();
    return performance.now() - t0;
  };
  const fairness: BudgetResult['fairness'] = { cheapAlone: [], cheapBeside: [], maximalAlone: [], maximalBeside: [] };
  await cheap();
  for (let round = 0; round < (settings.quick ? 2 : 4); round++) {
    fairness.cheapAlone.push(await timed(cheap));
    const alone = await timed(maximal);
    fairness.maximalAlone.push(alone);
    const t0 = performance.now();
    const big = maximal();
    // Send the cheap one while the maximal request is well into its windows.
    await new Promise((r) => setTimeout(r, alone / 3));
    fairness.cheapBeside.push(await timed(cheap));
    await big;
    fairness.maximalBeside.push(performance.now() - t0);
  }
  await server.close();
  await engine.dispose();
  return { perWindow, fairness, maximal: { windows: plan.count, tokens: plan.tokens, docStride } };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** The derivation of the default budget and the fairness measurement, as markdown. */
export function budgetTables(r: BudgetResult): string {
  const limit = DEFAULT_LIMITS.maxRequestWindows;
  const half = (FUNCTION_TIMEOUT_S / 2) * 1000;
  const lines = [
    `| One window, 1 thread | ms per window | ${limit} windows (s) | Windows in half the ${FUNCTION_TIMEOUT_S} s timeout |`,
    '| --- | --: | --: | --: |',
  ];
  for (const id of ['int8/512', 'int8/384', 'fp32/512', 'fp32/384']) {
    const s = r.perWindow.get(id)!;
    const [precision, tokens] = id.split('/');
    lines.push(
      `| ${precision}, ${tokens} tokens | ${s.median.toFixed(1)} (${s.min.toFixed(0)}–${s.max.toFixed(0)}) | ${((limit * s.median) / 1000).toFixed(1)} | ${Math.floor(half / s.median)} |`,
    );
  }
  const f = r.fairness;
  const cheapAlone = median(f.cheapAlone);
  const cheapBeside = median(f.cheapBeside);
  const maxAlone = median(f.maximalAlone);
  lines.push(
    '',
    `| GraphQL over HTTP, int8, 1 thread (${f.cheapAlone.length} rounds, medians) | Alone (ms) | Beside the other (ms) |`,
    '| --- | --: | --: |',
    `| cheap: one ~48-token window | ${cheapAlone.toFixed(0)} | ${cheapBeside.toFixed(0)} |`,
    `| maximal: ${r.maximal.windows} windows of 512 tokens (${r.maximal.tokens} tokens, docStride ${r.maximal.docStride}) | ${maxAlone.toFixed(0)} | ${median(f.maximalBeside).toFixed(0)} |`,
    '',
    `The cheap request beside the maximal one took ${(cheapBeside / cheapAlone).toFixed(1)}× its time alone, ` +
      `${((100 * cheapBeside) / maxAlone).toFixed(1)}% of the maximal request's; one int8 window of 512 tokens is ` +
      `${r.perWindow.get('int8/512')!.median.toFixed(0)} ms here.`,
  );
  return lines.join('\n');
}
