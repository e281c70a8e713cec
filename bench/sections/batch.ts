/**
 * 16 questions in one GraphQL request (16 aliased `answer` fields → one DataLoader batch → one
 * `answerMany`) against the same 16 as sequential requests, for mixed lengths and for short inputs.
 * The floor is session.run over all their windows; the peer answers the 16 one after another.
 */
import type { RunningServer } from '../../src/local-server';
import { Floor, engineWindows } from '../floor';
import { ANSWER_QUERY, aliasedAnswerQuery, aliasedVariables, postGraphQL } from '../graphql-client';
import { makeInput, type SizedInput } from '../inputs';
import type { ModelFolder } from '../model-folder';
import type { PeerPipeline } from '../peer';
import type { Row, Settings } from '../report-types';
import { interleave, type Case } from '../stats';

const COUNT = 16;

/** Mixed: a short, a ~150, a ~380 and a ~2,000-token context, four times, each text different. */
export async function mixedInputs(model: Pick<ModelFolder, 'tokenizer'>): Promise<SizedInput[]> {
  const targets = [{ sequenceTokens: 48 }, { sequenceTokens: 150 }, { sequenceTokens: 382 }, { contextTokens: 2000 }];
  return Promise.all(Array.from({ length: COUNT }, (_, i) => makeInput(model.tokenizer, targets[i % 4]!, 100 + i)));
}

export async function shortInputs(model: Pick<ModelFolder, 'tokenizer'>): Promise<SizedInput[]> {
  return Promise.all(
    Array.from({ length: COUNT }, (_, i) => makeInput(model.tokenizer, { sequenceTokens: 48 }, 200 + i)),
  );
}

export async function runBatch(
  model: ModelFolder,
  deps: { threads: number; server: RunningServer; floor: Floor; peer: PeerPipeline },
  settings: Settings,
  log: (m: string) => void,
): Promise<Row[]> {
  const { server, floor, peer, threads } = deps;
  const sets = [
    { name: 'mixed lengths', inputs: await mixedInputs(model) },
    { name: 'short (~48 tokens)', inputs: await shortInputs(model) },
  ];
  const cases: Case[] = [];
  const inputDescriptions: string[] = [];
  for (const set of sets) {
    const windows = (
      await Promise.all(set.inputs.map((i) => engineWindows(model.tokenizer, i.question, i.context)))
    ).flat();
    const tokens = set.inputs.reduce((n, i) => n + i.sequenceTokens, 0);
    inputDescriptions.push(`16 inputs, ${windows.length} windows, ${tokens} tokens`);
    const feeds = floor.feeds(windows);
    const query = aliasedAnswerQuery(COUNT);
    const variables = aliasedVariables(set.inputs);
    // The mixed set costs seconds a sample, the short one a fifth of a second: sample the short one
    // every round and the mixed one every third, so both get enough samples in bounded time.
    const every = set.name === 'mixed lengths' ? 3 : 1;
    cases.push(
      { id: `floor/${set.name}`, every, run: () => floor.run(feeds) },
      { id: `one/${set.name}`, every, run: () => postGraphQL(server.url, query, variables) },
      {
        id: `seq/${set.name}`,
        every,
        run: async () => {
          for (const i of set.inputs) await postGraphQL(server.url, ANSWER_QUERY, { q: i.question, c: i.context });
        },
      },
      {
        id: `peer/${set.name}`,
        every,
        run: async () => {
          for (const i of set.inputs) await peer(i.question, i.context);
        },
      },
    );
  }
  const rounds = settings.rounds;
  log(`  ${cases.length} cases × ${rounds} rounds (+1 warm-up)`);
  const s = await interleave(cases, {
    warmup: 1,
    rounds,
    seed: 16,
    pauseMs: 25,
    onRound: (r) => log(`  round ${r + 1}/${rounds}`),
  });
  return sets.flatMap((set, k) => {
    const floorS = s.get(`floor/${set.name}`)!;
    const peerS = s.get(`peer/${set.name}`)!;
    const base = { threads, precision: 'int8' as const, input: inputDescriptions[k]!, floor: floorS, peer: peerS };
    return [
      { ...base, label: `floor: session.run of all windows, ${set.name}`, summary: floorS },
      { ...base, label: `16 in one GraphQL request, ${set.name}`, summary: s.get(`one/${set.name}`)! },
      { ...base, label: `16 sequential GraphQL requests, ${set.name}`, summary: s.get(`seq/${set.name}`)! },
      { ...base, label: `peer: 16 sequential pipeline calls, ${set.name}`, summary: peerS },
    ];
  });
}
