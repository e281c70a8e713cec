/**
 * The peer: transformers.js's `question-answering` pipeline on the same model folder, offline.
 * Note what it does differently (read from its source, v4.3.1): it tokenizes with truncation to
 * model_max_length (512) and no windows, so on a long context it reads only the first 512 tokens;
 * and it scores every (start, end) pair of the sequence and sorts them all.
 */
import * as path from 'node:path';

export type Precision = 'int8' | 'fp32';

export interface PeerPipeline {
  (question: string, context: string): Promise<unknown>;
  dispose(): Promise<void>;
}

export async function createPeer(modelDir: string, precision: Precision, threads: number): Promise<PeerPipeline> {
  // The package is ESM-first; this import keeps it out of processes that never compare with it.
  const { pipeline, env } = await import('@huggingface/transformers');
  env.allowRemoteModels = false;
  env.localModelPath = path.dirname(modelDir) + path.sep;
  const qa = await pipeline('question-answering', path.basename(modelDir), {
    dtype: precision === 'int8' ? 'q8' : 'fp32',
    device: 'cpu',
    session_options: { intraOpNumThreads: threads, interOpNumThreads: 1 },
  });
  const call = ((question: string, context: string) => qa(question, context)) as PeerPipeline;
  call.dispose = () => qa.dispose();
  return call;
}
