/**
 * Where the parts of a ranged read land: one preallocated buffer, or a file written at each part's
 * offset (a body too large to keep in memory). Parts arrive in any order; the SHA-256 is computed
 * in order as they complete. Every local failure is a ModelLocalStorageError naming the path.
 */
import { createHash, type Hash } from 'node:crypto';
import { open, rm } from 'node:fs/promises';
import type { Part } from './byte-ranges';
import { ModelLoadError, ModelLocalStorageError } from './errors';

/** Where the body goes: one buffer, or a file (written at each part's offset). */
export type ReadTarget = { kind: 'buffer' } | { kind: 'file'; path: string };

/** A target, or a choice made once the object's size is known (e.g. spill only large bodies). */
export type TargetChoice = ReadTarget | ((bytes: number) => Promise<ReadTarget>);

/** The part of a file handle the reader uses; injectable to test a full disk. */
export interface WritableFile {
  write(buffer: Buffer, offset: number, length: number, position: number): Promise<{ bytesWritten: number }>;
  close(): Promise<void>;
}

export type OpenFile = (path: string) => Promise<WritableFile>;

const defaultOpenFile: OpenFile = (file) => open(file, 'w', 0o600);

export class PartSink {
  private constructor(
    private readonly uri: string,
    private readonly target: ReadTarget,
    private readonly buffer: Buffer | undefined,
    private file: WritableFile | undefined,
  ) {}

  /**
   * Chooses the target for `total` bytes and prepares it. `stopped` is checked before a file is
   * created, so that a read stopped meanwhile leaves nothing on disk.
   */
  static async open(
    uri: string,
    choice: TargetChoice,
    total: number,
    stopped: () => boolean,
    openFile: OpenFile = defaultOpenFile,
  ): Promise<PartSink> {
    let target: ReadTarget;
    try {
      target = typeof choice === 'function' ? await choice(total) : choice;
    } catch (err) {
      // Creating the spill folder failed (a full /tmp): a local problem, named as such.
      throw err instanceof ModelLoadError
        ? err
        : new ModelLocalStorageError(uri, (err as { path?: string }).path ?? 'the spill folder', err);
    }
    if (target.kind === 'buffer') return new PartSink(uri, target, Buffer.allocUnsafe(total), undefined);
    if (stopped()) throw new ModelLoadError(`Read of ${uri} stopped`, uri);
    try {
      return new PartSink(uri, target, undefined, await openFile(target.path));
    } catch (err) {
      await rm(target.path, { force: true }).catch(() => undefined);
      throw new ModelLocalStorageError(uri, target.path, err);
    }
  }

  /** Memory for a part's bytes: its place in the buffer, or a scratch buffer to write to the file. */
  slot(part: Part): Buffer {
    return this.buffer ? this.buffer.subarray(part.start, part.end + 1) : Buffer.allocUnsafe(part.end - part.start + 1);
  }

  /** Puts a part's bytes (from `slot`) in place: nothing to do for the buffer, a positioned write for the file. */
  async write(part: Part, bytes: Buffer): Promise<void> {
    if (!this.file) return;
    const length = bytes.length;
    try {
      let written = 0;
      // Bounded: each pass writes at least one byte or throws.
      while (written < length) {
        const { bytesWritten } = await this.file.write(bytes, written, length - written, part.start + written);
        if (bytesWritten <= 0) throw new Error(`wrote 0 bytes at offset ${part.start + written}`);
        written += bytesWritten;
      }
    } catch (err) {
      throw new ModelLocalStorageError(this.uri, (this.target as { path: string }).path, err);
    }
  }

  /** The whole body: the buffer, or the path of the closed file. */
  async finish(): Promise<Buffer | string> {
    if (this.target.kind === 'buffer') return this.buffer!;
    const { path } = this.target;
    const file = this.file!;
    this.file = undefined;
    await file.close().catch((err: unknown) => {
      throw new ModelLocalStorageError(this.uri, path, err);
    });
    return path;
  }

  /** After a failure: closes and removes a partly written file. */
  async discard(): Promise<void> {
    if (this.target.kind !== 'file') return;
    await this.file?.close().catch(() => undefined);
    this.file = undefined;
    await rm(this.target.path, { force: true }).catch(() => undefined);
  }
}

/** SHA-256 of parts that complete in any order, fed to the hash in index order. */
export class OrderedHash {
  private readonly hash: Hash = createHash('sha256');
  /** Completed parts waiting for their turn. */
  private readonly waiting = new Map<number, Buffer>();
  private next = 0;

  add(index: number, bytes: Buffer): void {
    this.waiting.set(index, bytes);
    for (let b = this.waiting.get(this.next); b !== undefined; b = this.waiting.get(this.next)) {
      this.hash.update(b);
      this.waiting.delete(this.next);
      this.next += 1;
    }
  }

  hex(): string {
    return this.hash.digest('hex');
  }
}
