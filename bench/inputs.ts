/**
 * Benchmark inputs: deterministic English-like prose cut to a token budget with the model's own
 * tokenizer, so "about 150 tokens" means 150 model tokens, not characters. The model has random
 * weights, so what the text says does not matter; its length and vocabulary mix do.
 */
import { QATokenizer } from '../src/model/tokenizer';
import { rng } from './stats';

const SUBJECTS = [
  'The committee',
  'A young engineer',
  'The old harbour',
  'Marie Curie',
  'The northern railway',
  'Our library',
  'The river delta',
  'A small bakery',
  'The orchestra',
  'The city council',
  'Professor Okafor',
  'The research vessel',
];
const VERBS = [
  'announced',
  'rebuilt',
  'studied',
  'described',
  'opened',
  'measured',
  'financed',
  'questioned',
  'restored',
  'documented',
  'compared',
  'celebrated',
];
const OBJECTS = [
  'a new bridge across the valley',
  'the effects of salt on concrete',
  'seventeen rare manuscripts',
  'the first electric tram line',
  'a festival of regional music',
  'the migration routes of cranes',
  'the budget for the coming decade',
  'an exhibition about glassmaking',
  'the water quality in 1893',
  'a cheaper way to store grain',
  'the lighthouse on the eastern cape',
  'the rules of an ancient board game',
];
const TAILS = [
  'after years of debate',
  'in the spring of 1912',
  'with help from volunteers',
  'despite heavy rain',
  'for about 4,300 euros',
  'before the election',
  'to the surprise of many residents',
  'during a long winter',
  'in cooperation with two universities',
  'while the museum was closed',
];
const QUESTIONS = [
  'Who rebuilt the bridge across the valley?',
  'When was the first electric tram line opened?',
  'What did the committee announce?',
  'How much did the restoration cost?',
  'Which manuscripts were documented by the library?',
  'Why did the city council question the budget?',
  'Where do the cranes migrate in winter?',
  'What was measured in 1893?',
];

export function question(i: number): string {
  return QUESTIONS[i % QUESTIONS.length]!;
}

function sentence(random: () => number): string {
  const pick = (list: readonly string[]) => list[Math.floor(random() * list.length)]!;
  return `${pick(SUBJECTS)} ${pick(VERBS)} ${pick(OBJECTS)} ${pick(TAILS)}.`;
}

export interface SizedInput {
  question: string;
  context: string;
  /** Model tokens of question + context + special tokens (one window when ≤ 384). */
  sequenceTokens: number;
  contextTokens: number;
}

/**
 * A (question, context) pair whose full sequence is at most `sequenceTokens` long (as close as whole
 * sentences allow), or whose context alone is about `contextTokens` when that is given instead.
 */
export async function makeInput(
  tokenizer: QATokenizer,
  target: { sequenceTokens: number } | { contextTokens: number },
  seed: number,
): Promise<SizedInput> {
  const q = question(seed);
  const questionTokens = (await tokenizer.encode(q)).ids.length;
  const added = tokenizer.layout.addedCount;
  const budget = 'sequenceTokens' in target ? target.sequenceTokens - questionTokens - added : target.contextTokens;
  const random = rng(seed * 7919 + 17);
  const sentences: string[] = [];
  let tokens = 0;
  // Adding sentences one by one re-encodes the text each time; that is cheap at these sizes.
  for (;;) {
    const next = [...sentences, sentence(random)];
    const n = (await tokenizer.encode(next.join(' '))).ids.length;
    if (n > budget && sentences.length > 0) break;
    sentences.push(next[next.length - 1]!);
    tokens = n;
    if (n >= budget) break;
  }
  const context = sentences.join(' ');
  return { question: q, context, contextTokens: tokens, sequenceTokens: tokens + questionTokens + added };
}
