/**
 * The Lambda artifact's compressed onnxruntime library (src/model/onnxruntime/): the build's
 * compressor, and the unpacking + loading in real child processes (require.cache and dlopen as the
 * Lambda runtime has them, outside Jest's module registry), with the library actually used for a
 * run and checked in /proc/self/maps.
 */
import { execFile, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  chmodSync,
  copyFileSync,
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  realpathSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
} from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { compressOnnxRuntimeLibrary, linuxLibraryPath } from '../../scripts/compress-natives';
import { MODEL_FILE, ensureTestModel } from '../../scripts/model-generator';
import {
  COMPRESSED_LIBRARY_FILE,
  LIBRARY_FILE,
  MANIFEST_FILE,
  nativesFolderName,
} from '../../src/model/onnxruntime/compressed-library';
import { PROCESS_STARTED_MS } from '../../src/support/tmp-folders';

const REPO = path.resolve(__dirname, '..', '..');
const CHILD = path.join(__dirname, 'unpack-onnxruntime.child.ts');
const ARCH_FOLDER = nativesFolderName(process.platform, process.arch);
const VERSION: string = require('onnxruntime-node/package.json').version;

interface ChildOutput {
  result?: { status: string; dir?: string };
  error?: { name: string; message: string; reason: string; object: string };
  start?: number[];
  libraries?: string[];
}

let work: string;
let natives: string;
let modelPath: string;

beforeAll(async () => {
  work = mkdtempSync(path.join(os.tmpdir(), 'unpack-ort-test-'));
  natives = path.join(work, 'natives');
  // Quality 1: the format is the same at any quality, and this keeps the test fast.
  await compressOnnxRuntimeLibrary(process.arch, natives, { quality: 1 });
  modelPath = path.join(await ensureTestModel({ size: 'tiny', variant: 'distilbert' }), MODEL_FILE);
}, 120_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

async function runChild(nativesDir: string, tmpDir: string): Promise<ChildOutput> {
  // The folder goes as an argument, not TMPDIR: tsx keeps its own cache in TMPDIR. (The packaged
  // handler test in test/deploy covers the default, os.tmpdir().)
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['--import', 'tsx', CHILD, nativesDir, tmpDir, modelPath],
    { cwd: REPO },
  );
  return JSON.parse(stdout.trim().split('\n').pop()!) as ChildOutput;
}

function freshDir(name: string): string {
  const dir = path.join(work, name);
  mkdirSync(dir);
  return dir;
}

/** A copy of the natives folder to damage. */
function nativesCopy(name: string): string {
  const copy = path.join(work, name);
  cpSync(natives, copy, { recursive: true });
  return path.join(copy, ARCH_FOLDER);
}

const installedLibrary = realpathSync(linuxLibraryPath(process.arch));
let plainLogits: number[];

describe('the build compressor', () => {
  test('writes the manifest for the installed library, and keeps its output while the library is unchanged', async () => {
    const manifest = JSON.parse(readFileSync(path.join(natives, ARCH_FOLDER, MANIFEST_FILE), 'utf8'));
    expect(manifest).toMatchObject({
      format: 1,
      onnxruntimeVersion: VERSION,
      platform: 'linux',
      arch: process.arch,
      bytes: readFileSync(installedLibrary).length,
    });
    const again = await compressOnnxRuntimeLibrary(process.arch, natives, { quality: 1 });
    expect(again.reused).toBe(true);
    // A damaged output is not trusted: rebuilt.
    const copy = path.join(work, 'rebuilt');
    cpSync(natives, copy, { recursive: true });
    truncateSync(path.join(copy, ARCH_FOLDER, COMPRESSED_LIBRARY_FILE), 100);
    const rebuilt = await compressOnnxRuntimeLibrary(process.arch, copy, { quality: 1 });
    expect(rebuilt.reused).toBe(false);
    expect(readFileSync(path.join(copy, ARCH_FOLDER, COMPRESSED_LIBRARY_FILE)).length).toBe(manifest.compressedBytes);
  });
});

describe('unpacking and loading (child processes)', () => {
  test('without a compressed library for this platform, onnxruntime-node loads its own', async () => {
    const out = await runChild(freshDir('empty-natives'), freshDir('tmp-plain'));
    expect(out.result).toEqual({ status: 'not-compressed' });
    expect(out.libraries).toEqual([installedLibrary]);
    plainLogits = out.start!;
    expect(plainLogits).toHaveLength(7);
  });

  const sandbox = (): string => path.join(work, 'tmp-sandbox');
  let unpackedDir: string;

  test('unpacks into TMPDIR, and the session runs on that copy with the same results', async () => {
    const out = await runChild(natives, freshDir('tmp-sandbox'));
    expect(out.result).toMatchObject({ status: 'unpacked' });
    unpackedDir = out.result!.dir!;
    expect(path.dirname(unpackedDir)).toBe(sandbox());
    expect(path.basename(unpackedDir)).toMatch(
      new RegExp(`^onnxruntime-${VERSION.replace(/\./g, '\\.')}-${process.platform}-${process.arch}-[0-9a-f]{16}$`),
    );
    expect(out.libraries).toEqual([path.join(realpathSync(unpackedDir), LIBRARY_FILE)]);
    expect(out.start).toEqual(plainLogits);
    // Complete and alone: no partial folder left behind.
    expect(readdirSync(sandbox())).toEqual([path.basename(unpackedDir)]);
    expect(readdirSync(unpackedDir).sort()).toEqual([LIBRARY_FILE, 'onnxruntime_binding.node']);
    expect(readFileSync(path.join(unpackedDir, LIBRARY_FILE)).equals(readFileSync(installedLibrary))).toBe(true);
  });

  test('a second start in the same sandbox reuses the unpacked library', async () => {
    const out = await runChild(natives, sandbox());
    expect(out.result).toMatchObject({ status: 'reused', dir: unpackedDir });
    expect(out.start).toEqual(plainLogits);
  });

  test('a damaged unpacked library (e.g. half-deleted by a /tmp cleaner) is replaced, not trusted', async () => {
    truncateSync(path.join(unpackedDir, LIBRARY_FILE), 4096);
    const out = await runChild(natives, sandbox());
    expect(out.result).toMatchObject({ status: 'unpacked', dir: unpackedDir });
    expect(out.start).toEqual(plainLogits);
    expect(readdirSync(sandbox())).toEqual([path.basename(unpackedDir)]);
  });

  test('an unpacked library of the right size but other bytes is replaced (its SHA-256 is checked before loading)', async () => {
    const file = path.join(unpackedDir, LIBRARY_FILE);
    const bytes = readFileSync(file);
    bytes[bytes.length >> 1] = bytes[bytes.length >> 1]! ^ 0xff;
    writeFileSync(file, bytes);
    const out = await runChild(natives, sandbox());
    expect(out.result).toMatchObject({ status: 'unpacked', dir: unpackedDir });
    expect(readFileSync(file).equals(readFileSync(installedLibrary))).toBe(true);
    expect(out.start).toEqual(plainLogits);
  });

  test('a truncated binding in the reused folder is replaced, not trusted (it would die of SIGBUS)', async () => {
    const binding = path.join(unpackedDir, 'onnxruntime_binding.node');
    const packaged = readFileSync(binding);
    truncateSync(binding, packaged.length >> 1);
    const out = await runChild(natives, sandbox());
    expect(out.result).toMatchObject({ status: 'unpacked', dir: unpackedDir });
    expect(readFileSync(binding).equals(packaged)).toBe(true);
    expect(out.start).toEqual(plainLogits);
  });

  test('a binding of the right size but other bytes is replaced too', async () => {
    const binding = path.join(unpackedDir, 'onnxruntime_binding.node');
    const packaged = readFileSync(binding);
    const bytes = Buffer.from(packaged);
    // Past the ELF header and the dynamic section, in the code: a flip there would load and misbehave.
    bytes[bytes.length - 4096] = bytes[bytes.length - 4096]! ^ 0xff;
    writeFileSync(binding, bytes);
    const out = await runChild(natives, sandbox());
    expect(out.result).toMatchObject({ status: 'unpacked', dir: unpackedDir });
    expect(readFileSync(binding).equals(packaged)).toBe(true);
  });

  test('a folder others can write to is not trusted: replaced by a private one', async () => {
    chmodSync(unpackedDir, 0o777);
    const out = await runChild(natives, sandbox());
    expect(out.result).toMatchObject({ status: 'unpacked', dir: unpackedDir });
    expect(statSync(unpackedDir).mode & 0o777).toBe(0o700);
  });

  test('partial folders of a killed process are removed at start; a live process’s are kept', async () => {
    const base = `${path.basename(unpackedDir)}.partial`;
    const dead = spawnSync(process.execPath, ['-e', '0']).pid!;
    const stale = path.join(sandbox(), `${base}-${dead}-${Date.now()}-abc123`);
    const live = path.join(sandbox(), `${base}-${process.pid}-${PROCESS_STARTED_MS}-def456`);
    for (const d of [stale, live]) {
      mkdirSync(d);
      writeFileSync(path.join(d, LIBRARY_FILE), 'half');
    }
    const out = await runChild(natives, sandbox());
    expect(out.result).toMatchObject({ status: 'reused' });
    expect(readdirSync(sandbox()).sort()).toEqual([path.basename(unpackedDir), path.basename(live)].sort());
    rmSync(live, { recursive: true });
  });

  test('two processes starting at once both load, from one complete folder', async () => {
    const tmp = freshDir('tmp-race');
    const outs = await Promise.all([runChild(natives, tmp), runChild(natives, tmp)]);
    for (const out of outs) expect(out.start).toEqual(plainLogits);
    expect(outs.map((o) => o.result!.status).sort()).toEqual(expect.arrayContaining(['unpacked']));
    expect(readdirSync(tmp)).toHaveLength(1);
  });

  test('a truncated compressed library: RUNTIME_UNAVAILABLE naming the file, nothing left in TMPDIR', async () => {
    const folder = nativesCopy('natives-truncated');
    const file = path.join(folder, COMPRESSED_LIBRARY_FILE);
    truncateSync(file, Math.floor(readFileSync(file).length / 2));
    const tmp = freshDir('tmp-truncated');
    const out = await runChild(path.dirname(folder), tmp);
    expect(out.error).toMatchObject({
      name: 'OnnxRuntimeUnavailableError',
      reason: 'RUNTIME_UNAVAILABLE',
      object: file,
    });
    expect(out.error!.message).toMatch(/cannot unpack into/);
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('a manifest whose size does not match the unpacked bytes is refused', async () => {
    const folder = nativesCopy('natives-size');
    const manifestPath = path.join(folder, MANIFEST_FILE);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, bytes: manifest.bytes + 1 }));
    const tmp = freshDir('tmp-size');
    const out = await runChild(path.dirname(folder), tmp);
    expect(out.error!.message).toMatch(
      new RegExp(`unpacked ${manifest.bytes} bytes, the manifest says ${manifest.bytes + 1}`),
    );
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('a manifest whose SHA-256 does not match the unpacked bytes is refused, nothing left in TMPDIR', async () => {
    const folder = nativesCopy('natives-sha');
    const manifestPath = path.join(folder, MANIFEST_FILE);
    const manifest = JSON.parse(readFileSync(manifestPath, 'utf8'));
    const wrong = createHash('sha256').update('another library').digest('hex');
    writeFileSync(manifestPath, JSON.stringify({ ...manifest, sha256: wrong }));
    const tmp = freshDir('tmp-sha');
    const out = await runChild(path.dirname(folder), tmp);
    expect(out.error).toMatchObject({
      reason: 'RUNTIME_UNAVAILABLE',
      object: path.join(folder, COMPRESSED_LIBRARY_FILE),
    });
    expect(out.error!.message).toContain(
      `the unpacked library's SHA-256 is ${manifest.sha256}, the manifest says ${wrong}`,
    );
    expect(readdirSync(tmp)).toEqual([]);
  });

  test('a library from another onnxruntime-node version than the installed binding is refused', async () => {
    const folder = nativesCopy('natives-version');
    const manifestPath = path.join(folder, MANIFEST_FILE);
    writeFileSync(
      manifestPath,
      JSON.stringify({ ...JSON.parse(readFileSync(manifestPath, 'utf8')), onnxruntimeVersion: '0.0.1' }),
    );
    const out = await runChild(path.dirname(folder), freshDir('tmp-version'));
    expect(out.error).toMatchObject({ reason: 'RUNTIME_UNAVAILABLE', object: manifestPath });
    expect(out.error!.message).toContain(
      `from onnxruntime-node 0.0.1 but ${VERSION} is installed; rebuild the package`,
    );
  });

  test.each([
    ['not JSON', '{', /the manifest is not JSON/],
    [
      'a bad hash',
      JSON.stringify({
        format: 1,
        onnxruntimeVersion: VERSION,
        platform: 'linux',
        arch: 'x64',
        bytes: 1,
        sha256: 'xyz',
        compressedBytes: 1,
      }),
      /invalid manifest: sha256 is not a hex SHA-256/,
    ],
    ['another format', JSON.stringify({ format: 2 }), /invalid manifest: unknown format 2/],
  ])('a manifest that is %s is refused with the reason', async (_name, text, message) => {
    const folder = nativesCopy(`natives-manifest-${_name.replace(/\W/g, '')}`);
    writeFileSync(path.join(folder, MANIFEST_FILE), text);
    const out = await runChild(path.dirname(folder), freshDir(`tmp-manifest-${_name.replace(/\W/g, '')}`));
    expect(out.error!.message).toMatch(message);
  });

  test('a TMPDIR that is not a folder: a clear error, not a crash', async () => {
    const blocked = path.join(work, 'blocked-file');
    copyFileSync(__filename, blocked);
    const out = await runChild(natives, blocked);
    expect(out.error).toMatchObject({ reason: 'RUNTIME_UNAVAILABLE' });
    expect(out.error!.message).toMatch(/cannot create a folder to unpack into: (EEXIST|ENOTDIR)/);
  });
});
