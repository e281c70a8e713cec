/**
 * Single-question latency at three context sizes, 1 and 2 threads: the onnxruntime floor (int8 and
 * fp32), the engine's `answer`, GraphQL `answer` over HTTP to the local server, and the peer. All
 * variants of one round run interleaved, so their ratios are measured under the same load.
 */
import { QuestionAnswerer } from '../../src/model/question-answerer';
import type { RunningServer } from '../../src/local-server';
import { Floor, engineWindows } from '../floor';
import { ANSWER_QUERY, postGraphQL } from '../graphql-client';
import { makeInput, type SizedInput } from '../inputs';
import type { ModelFolder } from '../model-folder';
import { createPeer, type PeerPipeline } from '../peer';
import type { Row, Settings } from '../report-types';
import { serveEngine } from '../server';
import { interleave, type Case, type Summary } from '../stats';

export const SIZES = [
  { name: '~150', target: { sequenceTokens: 150 }, seed: 1 },
  // One window: 384 is the window limit, so the whole sequence stays just under it.
  { name: '~380', target: { sequenceTokens: 382 }, seed: 2 },
  { name: '~2,000', target: { contextTokens: 2000 }, seed: 3 },
] as const;

/** What later sections reuse: the engine and the server at each thread count. */
export interface LatencyResult {
  rows: Row[];
  summaries: Map<string, Summary>;
  engines: Map<number, QuestionAnswerer>;
  servers: Map<number, RunningServer>;
  peers: Map<number, PeerPipeline>;
  floors: Map<string, Floor>;
  inputs: SizedInput[];
}

export async function runLatency(
  model: ModelFolder,
  threadCounts: number[],
  settings: Settings,
  log: (m: string) => void,
): Promise<LatencyResult> {
  const inputs = await Promise.all(SIZES.map((s) => makeInput(model.tokenizer, s.target, s.seed)));
  const windows = await Promise.all(inputs.map((i) => engineWindows(model.tokenizer, i.question, i.context)));
  const describe = (i: number) => {
    const n = windows[i]!.length;
    return n === 1 ? `${inputs[i]!.sequenceTokens} (1 window)` : `${inputs[i]!.contextTokens} ctx (${n} windows)`;
  };

  const engines = new Map<number, QuestionAnswerer>();
  const servers = new Map<number, RunningServer>();
  const peers = new Map<number, PeerPipeline>();
  const floors = new Map<string, Floor>();
  const cases: Case[] = [];
  for (const t of threadCounts) {
    log(`  creating sessions for ${t} thread(s)`);
    const floorInt8 = await Floor.create(model.onnx('int8'), t);
    const floorFp32 = await Floor.create(model.onnx('fp32'), t);
    floors.set(`int8/${t}`, floorInt8);
    floors.set(`fp32/${t}`, floorFp32);
    const engine = await QuestionAnswerer.create({
      model: model.onnx('int8'),
      tokenizerJson: model.tokenizerJson,
      config: model.config,
      intraOpNumThreads: t,
    });
    engines.set(t, engine);
    const server = await serveEngine(engine);
    servers.set(t, server);
    const peer = await createPeer(model.dir, 'int8', t);
    peers.set(t, peer);
    SIZES.forEach((size, i) => {
      const input = inputs[i]!;
      const feedsInt8 = floorInt8.feeds(windows[i]!);
      const feedsFp32 = floorFp32.feeds(windows[i]!);
      // The long context costs ~8 windows a sample: sample it every third round to bound the runtime.
      const every = windows[i]!.length > 1 ? 3 : 1;
      const id = (what: string) => `${what}/${t}/${size.name}`;
      cases.push(
        { id: id('floor-int8'), every, run: () => floorInt8.run(feedsInt8) },
        { id: id('floor-fp32'), every: every * 2, run: () => floorFp32.run(feedsFp32) },
        { id: id('engine'), every, run: () => engine.answer(input) },
        {
          id: id('graphql'),
          every,
          run: () => postGraphQL(server.url, ANSWER_QUERY, { q: input.question, c: input.context }),
        },
        { id: id('peer'), every, run: () => peer(input.question, input.context) },
      );
    });
  }
  log(`  ${cases.length} cases × ${settings.rounds} rounds (+${settings.warmup} warm-up)`);
  const summaries = await interleave(cases, {
    warmup: settings.warmup,
    rounds: settings.rounds,
    seed: 6,
    pauseMs: 25,
    onRound: (r) => log(`  round ${r + 1}/${settings.rounds}`),
  });

  const rows: Row[] = [];
  for (const t of threadCounts) {
    SIZES.forEach((size, i) => {
      const get = (what: string) => summaries.get(`${what}/${t}/${size.name}`)!;
      const floor = get('floor-int8');
      const peer = get('peer');
      const base = { threads: t, input: describe(i) };
      rows.push(
        { ...base, label: `floor: session.run, ${size.name} tokens`, precision: 'int8', summary: floor, floor, peer },
        {
          ...base,
          label: `floor: session.run, ${size.name} tokens`,
          precision: 'fp32',
          summary: get('floor-fp32'),
          floor: get('floor-fp32'),
        },
        {
          ...base,
          label: `engine answer, ${size.name} tokens`,
          precision: 'int8',
          summary: get('engine'),
          floor,
          peer,
        },
        {
          ...base,
          label: `GraphQL answer over HTTP, ${size.name} tokens`,
          precision: 'int8',
          summary: get('graphql'),
          floor,
          peer,
        },
        {
          ...base,
          label: `peer: transformers.js pipeline, ${size.name} tokens`,
          input:
            windows[i]!.length > 1
              ? `${Math.min(512, inputs[i]!.sequenceTokens)} (truncated: no windows)`
              : describe(i),
          precision: 'int8',
          summary: peer,
          floor,
          peer,
        },
      );
    });
  }
  return { rows, summaries, engines, servers, peers, floors, inputs };
}
