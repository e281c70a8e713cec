/**
 * What a Lambda sandbox's INIT spent before the model load's own steps, recorded by the entry's
 * modules (src/lambda-onnxruntime.ts, src/lambda.mts) and reported in `model { loadTimings }` beside
 * the load's steps. Process-wide, like the model: one INIT per sandbox. Null where the step did not
 * happen (the local server, the CommonJS handler, a package without the compressed library).
 */
export interface InitTimings {
  /** Unpacking onnxruntime's brotli-compressed library into /tmp (or checking a reused one). */
  runtimeUnpackMs: number | null;
  /** Evaluating the API's modules (Apollo, graphql, resolvers) while the model downloads. */
  apiEvaluationMs: number | null;
}

const timings: InitTimings = { runtimeUnpackMs: null, apiEvaluationMs: null };

export function recordInitTiming(step: keyof InitTimings, ms: number): void {
  timings[step] = Math.round(ms * 10) / 10;
}

export function initTimings(): Readonly<InitTimings> {
  return { ...timings };
}
