/**
 * onnxruntime's profiler, run and read back: the kernel time of every node, run by run, for several
 * sessions profiled at once with their runs alternated (so that load from other processes falls on
 * all of them alike, as in `interleave`).
 */
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import * as os from 'node:os';
import * as path from 'node:path';
import type * as ort from 'onnxruntime-node';

export interface KernelEvent {
  node: string;
  op: string;
  ms: number;
}

/** A session to profile: create it with the options `open` is given. */
export interface Profiled {
  key: string;
  open: (profiling: ort.InferenceSession.SessionOptions) => Promise<ort.InferenceSession>;
  run: (session: ort.InferenceSession) => Promise<unknown>;
  /**
   * Runs back to back in each round, of which only the last is kept (default 1): a warm run, its
   * inputs and weights in cache from the one before, for a ceiling.
   */
  repeat?: number;
}

type ProfileEvent = { cat: string; name: string; ts: number; dur: number; args?: { op_name?: string } };

/** The kernel events of each `model_run` of a profile, in run order. */
function eventsByRun(events: readonly ProfileEvent[]): KernelEvent[][] {
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((a, b) => a.ts - b.ts);
  const out: KernelEvent[][] = runs.map(() => []);
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || !e.args?.op_name) continue;
    const i = runs.findIndex((r) => e.ts >= r.ts && e.ts <= r.ts + r.dur);
    if (i >= 0) out[i]!.push({ node: e.name.slice(0, -'_kernel_time'.length), op: e.args.op_name, ms: e.dur / 1000 });
  }
  return out;
}

/**
 * One warm-up round, then `runs` rounds in which each session runs (in the given order, after
 * `pauseMs` idle: onnxruntime's workers spin after a run and would take the next session's
 * core). Returns the kernel events of the timed runs, by key.
 */
export async function profileRuns(
  items: readonly Profiled[],
  runs: number,
  pauseMs: number,
): Promise<Map<string, KernelEvent[][]>> {
  const work = await mkdtemp(path.join(os.tmpdir(), 'qa-bench-profile-'));
  const sessions: Array<{ item: Profiled; session: ort.InferenceSession; prefix: string }> = [];
  try {
    for (const [i, item] of items.entries()) {
      const prefix = `p${i}`;
      sessions.push({
        item,
        prefix,
        session: await item.open({ enableProfiling: true, profileFilePrefix: path.join(work, prefix) }),
      });
    }
    for (let r = 0; r <= runs; r++) {
      for (const s of sessions) {
        if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
        for (let k = 0; k < (s.item.repeat ?? 1); k++) await s.item.run(s.session);
      }
    }
    const out = new Map<string, KernelEvent[][]>();
    for (const s of sessions) {
      s.session.endProfiling();
      const file = (await readdir(work)).find((f) => f.startsWith(`${s.prefix}_`) && f.endsWith('.json'));
      if (!file) throw new Error(`no onnxruntime profile for ${s.item.key}`);
      const byRun = eventsByRun(JSON.parse(await readFile(path.join(work, file), 'utf8')) as ProfileEvent[]);
      const repeat = s.item.repeat ?? 1;
      if (byRun.length !== (runs + 1) * repeat)
        throw new Error(`${s.item.key}: ${byRun.length} profiled runs, expected ${(runs + 1) * repeat}`);
      out.set(
        s.item.key,
        byRun.filter((_, i) => i >= repeat && i % repeat === repeat - 1),
      );
    }
    return out;
  } finally {
    for (const s of sessions) await s.session.release();
    await rm(work, { recursive: true, force: true });
  }
}
