/**
 * What a Lambda sandbox's INIT spent outside the model load's own steps, recorded by the entry
 * (src/lambda.mts) and reported in `model { loadTimings }` beside the load's steps. Process-wide,
 * like the model: one INIT per sandbox. Null where the step did not happen (the local server, the
 * CommonJS handler).
 */
export interface InitTimings {
  /** Evaluating the API's modules (Apollo, graphql, resolvers) while the model downloads. */
  apiEvaluationMs: number | null;
}

const timings: InitTimings = { apiEvaluationMs: null };

export function recordInitTiming(step: keyof InitTimings, ms: number): void {
  timings[step] = Math.round(ms * 10) / 10;
}

export function initTimings(): Readonly<InitTimings> {
  return { ...timings };
}
