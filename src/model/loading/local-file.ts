/**
 * Reads of a local model folder or bundle, bounded like S3's: a file must be a regular file (a FIFO
 * or a device would block a read forever), its size within its limit (size-limits.ts), and every
 * step within the idle timeout (no bytes for `idleTimeoutMs`) and the whole file within
 * `totalTimeoutMs`. A stalled network file system (EFS) fails the load instead of holding it.
 * A filesystem call that never returns keeps its libuv thread, but no longer the load.
 */
import type { Stats } from 'node:fs';
import { open, stat } from 'node:fs/promises';
import { withinTime } from '../../support/within-time';
import { truncatedRead, readTimeout, missingModelFile, invalidModel, isLoadFailure } from './errors';

export interface LocalReadTimeouts {
  idleTimeoutMs: number;
  totalTimeoutMs: number;
}

/** `step` or a TIMEOUT ModelLoadError after `ms`, whichever first. */
export function withinMs<T>(step: Promise<T>, ms: number, object: string, what: string): Promise<T> {
  return withinTime(step, ms, () => {
    throw readTimeout(object, ms, what);
  });
}

/** The stats of a model file that must exist: a MISSING_FILE ModelLoadError when it does not. */
export async function statLocal(file: string, timeouts: LocalReadTimeouts): Promise<Stats> {
  try {
    return await withinMs(stat(file), timeouts.idleTimeoutMs, file, 'stat');
  } catch (err) {
    if (isLoadFailure(err, 'TIMEOUT')) throw err;
    throw missingModelFile(file, (err as NodeJS.ErrnoException).code, { cause: err });
  }
}

/** Refuses what is not a regular file: reading a FIFO or a device blocks until someone writes. */
export function requireRegularFile(file: string, s: Stats): void {
  if (!s.isFile())
    throw invalidModel(file, 'not a regular file (a FIFO, device or folder cannot be read as a model file)');
}

/**
 * A whole regular file, at most what `sizeProblem` allows (checked on its size before a byte is
 * read), within the timeouts.
 */
export async function readLocalFile(
  file: string,
  sizeProblem: (bytes: number) => string | null,
  timeouts: LocalReadTimeouts,
): Promise<Buffer> {
  const s = await statLocal(file, timeouts);
  requireRegularFile(file, s);
  const problem = sizeProblem(s.size);
  if (problem) throw invalidModel(file, problem);
  const deadline = Date.now() + timeouts.totalTimeoutMs;
  const left = (): number => Math.max(1, Math.min(timeouts.idleTimeoutMs, deadline - Date.now()));
  const handle = await withinMs(open(file, 'r'), left(), file, 'open');
  try {
    const out = Buffer.allocUnsafe(s.size);
    let offset = 0;
    while (offset < out.length) {
      const { bytesRead } = await withinMs(
        handle.read(out, offset, out.length - offset, offset),
        left(),
        file,
        'no data',
      );
      if (bytesRead === 0) throw truncatedRead(file, offset, out.length);
      offset += bytesRead;
    }
    return out;
  } finally {
    void handle.close().catch(() => undefined);
  }
}

/** Chunks of `source`, failing with a TIMEOUT ModelLoadError when one takes longer than `idleTimeoutMs`. */
export async function* idleBounded(
  source: AsyncIterable<Buffer>,
  object: string,
  idleTimeoutMs: number,
): AsyncGenerator<Buffer> {
  const iterator = source[Symbol.asyncIterator]();
  try {
    for (;;) {
      const next = await withinMs(iterator.next(), idleTimeoutMs, object, 'no data');
      if (next.done) return;
      yield next.value;
    }
  } finally {
    await iterator.return?.();
  }
}
