/**
 * Where a GraphQL answer's time goes beyond the raw `session.run`, request by request: the serving
 * child (BENCH_MODE=phases) records the marks of src/support/phase-marks.ts between the HTTP
 * request's start and its response's finish; this side pairs each record with the client's own time
 * for the same request (requests go one at a time, so in the same order) and splits it into phases.
 */
import type { ChildProcess } from 'node:child_process';
import type { PhaseMark } from '../src/support/phase-marks';

/** One request's marks in the server, in order, with `performance.now()` of the server process. */
export type PhaseRecord = Array<[PhaseMark | 'request' | 'response', number]>;

/** What the serving child (child/serve.ts, BENCH_MODE=phases) sends back: every request's marks. */
export interface PhasesReport {
  kind: 'phases';
  records: PhaseRecord[];
}

/**
 * The phases, each named by the mark that ends it (the time since the previous mark), plus the
 * client's share (`client`: its time minus the server's, request start to response finish).
 */
export const PHASES = [
  {
    id: 'client',
    ends: undefined,
    label: 'Client ↔ server: the request and response between the two processes, HTTP client, JSON on the client',
  },
  {
    id: 'before',
    ends: 'engine-start',
    label:
      'Server before the engine: HTTP in, body, Apollo parse, validate and execute up to the resolver, the DataLoader batch',
  },
  { id: 'tokenize', ends: 'prepared', label: 'Tokenize the question and context, plan the windows' },
  { id: 'turn', ends: 'window-turn', label: "Build the window, the fair scheduler's turn" },
  { id: 'tensors', ends: 'run-start', label: 'Input tensors' },
  { id: 'run', ends: 'run-end', label: '`session.run` in the server' },
  { id: 'search', ends: 'engine-end', label: 'Logits out, span search, ranking' },
  {
    id: 'after',
    ends: 'response',
    label: "Server after the engine: the resolver's result, Apollo's response, JSON, HTTP out",
  },
] as const;
export type PhaseId = (typeof PHASES)[number]['id'];

/** Asks a `phases` child for the records of every request it served since it last answered. */
export function fetchPhases(child: ChildProcess): Promise<PhaseRecord[]> {
  return new Promise((resolve, reject) => {
    const onMessage = (m: PhasesReport | { kind: string }) => {
      if (m.kind !== 'phases') return;
      child.off('message', onMessage);
      resolve((m as PhasesReport).records);
    };
    child.on('message', onMessage);
    child.send('phases', (error) => error && reject(error));
  });
}

/** One request's phases in ms; a window's phases add up when a request runs several. */
export function phasesOf(record: PhaseRecord, clientMs: number): Record<PhaseId, number> {
  if (record[0]?.[0] !== 'request' || record.at(-1)?.[0] !== 'response')
    throw new Error('a phase record must run from request to response');
  const out = Object.fromEntries(PHASES.map((p) => [p.id, 0])) as Record<PhaseId, number>;
  for (let i = 1; i < record.length; i++) {
    const [mark, at] = record[i]!;
    const phase = PHASES.find((p) => p.ends === mark);
    if (!phase) throw new Error(`unexpected mark ${mark}`);
    out[phase.id] += at - record[i - 1]![1];
  }
  out.client = clientMs - (record.at(-1)![1] - record[0]![1]);
  return out;
}
