/**
 * The deployment zip, read with fflate (a maintained zip library; no system `unzip`): entries from
 * the central directory, files decompressed on demand (a package is up to ~50 MB unzipped, and the
 * tests open several).
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { unzipSync } from 'fflate';

export interface ZipEntry {
  name: string;
  compressedSize: number;
  size: number;
  /** 0 stored, 8 deflated. */
  method: number;
}

export class Zip {
  readonly entries: ZipEntry[] = [];
  private constructor(private readonly data: Uint8Array) {
    // A filter that keeps nothing lists every entry without decompressing any.
    unzipSync(data, {
      filter: (file) => {
        this.entries.push({
          name: file.name,
          compressedSize: file.size,
          size: file.originalSize,
          method: file.compression,
        });
        return false;
      },
    });
  }

  static open(file: string): Zip {
    return new Zip(readFileSync(file));
  }

  get unzippedBytes(): number {
    return this.entries.reduce((sum, e) => sum + e.size, 0);
  }

  names(): string[] {
    return this.entries.map((e) => e.name).filter((n) => !n.endsWith('/'));
  }

  read(name: string): Buffer {
    const entry = this.entries.find((e) => e.name === name);
    if (!entry) throw new Error(`${name} is not in the zip`);
    const out = unzipSync(this.data, { filter: (file) => file.name === name })[name];
    if (!out || out.length !== entry.size) throw new Error(`size mismatch for ${name}`);
    return Buffer.from(out.buffer, out.byteOffset, out.length);
  }

  /** Extracts every file under `dir` (entry names are checked to stay inside it). */
  extractTo(dir: string): void {
    const files = unzipSync(this.data);
    for (const entry of this.entries) {
      if (entry.name.endsWith('/')) continue;
      const target = path.resolve(dir, entry.name);
      if (!target.startsWith(path.resolve(dir) + path.sep)) throw new Error(`unsafe entry name ${entry.name}`);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, files[entry.name]!);
    }
  }
}

/** The ELF machine of a shared object: 'x64', 'arm64' or something else. */
export function elfMachine(bytes: Buffer): string {
  if (bytes.length < 20 || bytes.readUInt32BE(0) !== 0x7f454c46) return 'not ELF';
  const machine = bytes.readUInt16LE(18);
  return machine === 0x3e ? 'x64' : machine === 0xb7 ? 'arm64' : `machine 0x${machine.toString(16)}`;
}
