/**
 * A minimal reader of the deployment zip (no system `unzip`, no extra package): lists entries from
 * the central directory and extracts stored or deflated files. Enough for what osls writes.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { inflateRawSync } from 'node:zlib';

export interface ZipEntry {
  name: string;
  compressedSize: number;
  size: number;
  method: number;
  localHeaderOffset: number;
}

export class Zip {
  readonly entries: ZipEntry[];
  private constructor(private readonly data: Buffer) {
    this.entries = readCentralDirectory(data);
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
    return this.readEntry(entry);
  }

  /** Extracts every file under `dir` (entry names are checked to stay inside it). */
  extractTo(dir: string): void {
    for (const entry of this.entries) {
      if (entry.name.endsWith('/')) continue;
      const target = path.resolve(dir, entry.name);
      if (!target.startsWith(path.resolve(dir) + path.sep)) throw new Error(`unsafe entry name ${entry.name}`);
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, this.readEntry(entry));
    }
  }

  private readEntry(entry: ZipEntry): Buffer {
    const at = entry.localHeaderOffset;
    if (this.data.readUInt32LE(at) !== 0x04034b50) throw new Error(`bad local header for ${entry.name}`);
    const start = at + 30 + this.data.readUInt16LE(at + 26) + this.data.readUInt16LE(at + 28);
    const raw = this.data.subarray(start, start + entry.compressedSize);
    const out = entry.method === 0 ? Buffer.from(raw) : entry.method === 8 ? inflateRawSync(raw) : null;
    if (!out) throw new Error(`unsupported compression method ${entry.method} for ${entry.name}`);
    if (out.length !== entry.size) throw new Error(`size mismatch for ${entry.name}`);
    return out;
  }
}

function readCentralDirectory(data: Buffer): ZipEntry[] {
  // End of central directory record: signature, then offsets; a comment may follow (up to 64 KiB).
  let eocd = -1;
  for (let i = data.length - 22; i >= Math.max(0, data.length - 22 - 65_535); i--) {
    if (data.readUInt32LE(i) === 0x06054b50) {
      eocd = i;
      break;
    }
  }
  if (eocd < 0) throw new Error('not a zip file (no end of central directory)');
  const count = data.readUInt16LE(eocd + 10);
  let at = data.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (data.readUInt32LE(at) !== 0x02014b50) throw new Error('bad central directory entry');
    const nameLength = data.readUInt16LE(at + 28);
    const extraLength = data.readUInt16LE(at + 30);
    const commentLength = data.readUInt16LE(at + 32);
    entries.push({
      method: data.readUInt16LE(at + 10),
      compressedSize: data.readUInt32LE(at + 20),
      size: data.readUInt32LE(at + 24),
      localHeaderOffset: data.readUInt32LE(at + 42),
      name: data.subarray(at + 46, at + 46 + nameLength).toString('utf8'),
    });
    at += 46 + nameLength + extraLength + commentLength;
  }
  return entries;
}

/** The ELF machine of a shared object: 'x64', 'arm64' or something else. */
export function elfMachine(bytes: Buffer): string {
  if (bytes.length < 20 || bytes.readUInt32BE(0) !== 0x7f454c46) return 'not ELF';
  const machine = bytes.readUInt16LE(18);
  return machine === 0x3e ? 'x64' : machine === 0xb7 ? 'arm64' : `machine 0x${machine.toString(16)}`;
}
