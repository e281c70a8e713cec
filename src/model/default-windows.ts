/**
 * The windows the engine cuts for one question and context with the default options: what the
 * load-time probe runs, what `model optimize` checks an optimized graph on, and what the bench
 * feeds raw onnxruntime, so that all three see exactly the engine's windows.
 */
import { DEFAULT_MAX_POSITIONS, resolveOptions } from './options';
import type { QATokenizer } from './tokenizer';
import { cutWindows, type Window } from './windows';

export async function defaultWindows(
  tokenizer: QATokenizer,
  question: string,
  context: string,
  maxPositions = DEFAULT_MAX_POSITIONS,
): Promise<Window[]> {
  const options = resolveOptions(undefined, { maxPositions, minSeqLength: tokenizer.layout.addedCount + 2 });
  const [q, c] = await Promise.all([tokenizer.encode(question), tokenizer.encode(context)]);
  return cutWindows(q.ids, c.ids, tokenizer.layout, options);
}
