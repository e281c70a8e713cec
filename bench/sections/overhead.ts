/**
 * Our overhead beyond onnxruntime, measured without the model's cost: the same code paths on the
 * tiny test model (dim 32, 2 layers, same tokenizer), where a window runs in well under a
 * millisecond. Full-size rows differ from their floor by a few ms that drown in the noise of a
 * shared machine; here the difference is the whole signal, so it is measured precisely and tells
 * how far each full-size ratio can move at best.
 */
import { ensureTestModel } from '../../scripts/model-generator';
import { QuestionAnswerer } from '../../src/model/question-answerer';
import { Floor, engineWindows } from '../floor';
import { ANSWER_QUERY, aliasedAnswerQuery, aliasedVariables, postGraphQL } from '../graphql-client';
import { mixedInputs, shortInputs } from './batch';
import type { SizedInput } from '../inputs';
import { fullModelFrom } from '../model-folder';
import { createPeer } from '../peer';
import { serveEngine } from '../server';
import { interleave, type Case, type Summary } from '../stats';
import { SIZES } from './latency';

export interface OverheadResult {
  /** `${variant}/${size}` → summary (floor, engine, graphql, peer), and `one|seq/mixed|short`. */
  summaries: Map<string, Summary>;
}

export async function runOverhead(
  inputs: readonly SizedInput[],
  rounds: number,
  log: (m: string) => void,
): Promise<OverheadResult> {
  const model = await fullModelFrom(await ensureTestModel({ size: 'tiny', variant: 'distilbert' }));
  const floor = await Floor.create(model.onnx('int8'), 1);
  const engine = await QuestionAnswerer.create({
    model: model.onnx('int8'),
    tokenizerJson: model.tokenizerJson,
    config: model.config,
    intraOpNumThreads: 1,
  });
  const server = await serveEngine(engine);
  const peer = await createPeer(model.dir, 'int8', 1);
  try {
    const cases: Case[] = [];
    for (const [i, size] of SIZES.entries()) {
      const input = inputs[i]!;
      const feeds = floor.feeds(await engineWindows(model.tokenizer, input.question, input.context));
      cases.push(
        { id: `floor/${size.name}`, run: () => floor.run(feeds) },
        { id: `engine/${size.name}`, run: () => engine.answer(input) },
        {
          id: `graphql/${size.name}`,
          run: () => postGraphQL(server.url, ANSWER_QUERY, { q: input.question, c: input.context }),
        },
        { id: `peer/${size.name}`, run: () => peer(input.question, input.context) },
      );
    }
    // 16 in one request against 16 requests, as in the batch section: here the difference is
    // only what a request costs beyond its model runs.
    for (const [name, set] of [
      ['mixed', await mixedInputs(model)],
      ['short', await shortInputs(model)],
    ] as const) {
      const query = aliasedAnswerQuery(set.length);
      const variables = aliasedVariables(set);
      cases.push(
        { id: `one/${name}`, run: () => postGraphQL(server.url, query, variables) },
        {
          id: `seq/${name}`,
          run: async () => {
            for (const i of set) await postGraphQL(server.url, ANSWER_QUERY, { q: i.question, c: i.context });
          },
        },
      );
    }
    log(`  ${cases.length} cases × ${rounds} rounds (+5 warm-up)`);
    return { summaries: await interleave(cases, { warmup: 5, rounds, seed: 3 }) };
  } finally {
    await server.close();
    await engine.dispose();
    await floor.release();
    await peer.dispose();
  }
}
