import type { Summary } from './stats';

/** One line of a latency table: its samples and the samples it is compared with. */
export interface Row {
  label: string;
  threads: number;
  precision: 'int8' | 'fp32';
  /** What was fed, e.g. "152 (1 window)". */
  input: string;
  summary: Summary;
  /** The raw onnxruntime time of the same windows, same threads and precision. */
  floor?: Summary;
  /** transformers.js on the same input, same threads and precision. */
  peer?: Summary;
}

export interface Settings {
  quick: boolean;
  rounds: number;
  warmup: number;
}
