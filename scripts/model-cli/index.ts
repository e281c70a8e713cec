/**
 * Model tools: `npm run model -- <command>`.
 *
 *   pull [<hf-repo-id> [<dir>]] [--revision R] [--fp32 | --all]   download from the Hub (HF_ENDPOINT), resumable, verified:
 *                                                            the int8 ONNX file (what the loader prefers), or with
 *                                                            --fp32 only onnx/model.onnx, with --all both
 *   push <dir> s3://bucket/prefix/ | s3://bucket/key.tar.gz [--all]  upload a folder as a new version (the
 *                                                            graph the loader serves and its standard file, the
 *                                                            tokenizer and config, then model-manifest.json;
 *                                                            --all: every file), or a bundle
 *   info <uri>                                               list what a URI holds (and its version)
 *   optimize <dir> [--tolerance T]                           save onnxruntime's offline-optimized graph beside each
 *                                                            standard ONNX file (the ORT format the loader serves,
 *                                                            and *.optimized.onnx), each checked against it
 *
 * S3 settings follow the SDK's environment (AWS_REGION, AWS_ENDPOINT_URL_S3, credentials chain)
 * plus S3_FORCE_PATH_STYLE=true for local emulators.
 */
import { existsSync } from 'node:fs';
import { readdir, rm } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { createModelS3Client, loadModelLoadingConfig, DEFAULT_HUB_REPO } from '../../src/model/loading/config';
import { hubCacheDir } from '../../src/model/loading/hub-source';
import { pullFromHub } from '../../src/model/loading/hub-pull';
import { ProgressBar } from './progress';
import { listModelFiles, pushModel } from './push';
import { unoptimizedNotice } from './version-files';
import { installedOnnxRuntimeVersion } from '../../src/model/onnxruntime/version';
import { describeUri } from './info';
import { DEFAULT_TOLERANCE, optimizeModel } from './optimize';

const USAGE = `usage: npm run model -- <command>
  pull [<hf-repo-id> [<dir>]] [--revision R] [--fp32 | --all]   (default repo ${DEFAULT_HUB_REPO};
       one argument is always the repo; the int8 onnx/model_quantized.onnx, --fp32: only onnx/model.onnx,
       --all: both; without <dir>: into the cache \`npm start\` uses when MODEL_URI is unset)
  push <dir> <s3://bucket/prefix/ | s3://bucket/key.tar.gz> [--all]   (a folder: a new version, manifest
       last, holding the graph a loader with these MODEL_QUANTIZED / MODEL_OPTIMIZED settings and this
       onnxruntime serves, its standard file as the fallback, and the non-graph files; --all: every file)
  info <uri>
  optimize <dir> [--tolerance T]   (writes the ORT format, onnx/*.onnxruntime-<version>.ort, which the
       loader serves, and onnx/*.optimized.onnx beside each standard file, each checked by running it and
       the standard graph on the same windows: removed if a logit differs by more than T, default ${DEFAULT_TOLERANCE})
  -h, --help   this text`;

const COMMANDS = new Set(['pull', 'push', 'info', 'optimize']);

function parseOptions(argv: string[]) {
  return parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      revision: { type: 'string' },
      fp32: { type: 'boolean', default: false },
      all: { type: 'boolean', default: false },
      tolerance: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
}

/** Runs one command; returns the exit code. Exported for tests. */
export async function main(argv: string[]): Promise<number> {
  let parsed: ReturnType<typeof parseOptions>;
  try {
    parsed = parseOptions(argv);
  } catch (err) {
    // An unknown option (the old `--quantized`, now the default) or a missing value: usage, not a stack.
    process.stderr.write(`error: ${(err as Error).message}\n${USAGE}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [command, ...rest] = positionals;
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (!command || !COMMANDS.has(command)) {
    process.stderr.write(`${command ? `error: unknown command "${command}"\n` : ''}${USAGE}\n`);
    return 2;
  }
  const config = loadModelLoadingConfig();
  const bar = new ProgressBar();
  switch (command) {
    case 'pull': {
      if (rest.length > 2) break;
      if (values.fp32 && values.all) {
        process.stderr.write('error: --fp32 and --all exclude each other (--all pulls both ONNX files)\n');
        return 2;
      }
      // No folder: the cache `npm start` looks in when MODEL_URI is unset (MODEL_HUB_REPO, MODEL_CACHE_DIR).
      const revision = values.revision ?? config.hub.revision;
      // One argument is the repo, never the folder: `pull owner/name` must not download the
      // default repo into a folder called owner/name.
      const repo = rest[0] ?? config.hub.repo;
      const dir = rest[1] ?? hubCacheDir({ cacheDir: config.cacheDir, hub: { ...config.hub, repo, revision } });
      const result = await withFolderRemovedIfLeftEmpty(dir, () =>
        pullFromHub({
          repo,
          revision,
          onnx: values.all ? 'all' : values.fp32 ? 'fp32' : 'int8',
          dir,
          endpoint: config.hub.endpoint,
          token: config.hub.token,
          onProgress: (p) => bar.update(p.name, p.loaded, p.total),
        }),
      );
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return 0;
    }
    case 'push': {
      if (rest.length !== 2) break;
      const client = createModelS3Client(config);
      const choice = {
        preferQuantized: config.preferQuantized,
        preferOptimized: config.preferOptimized,
        onnxruntimeVersion: installedOnnxRuntimeVersion(),
        all: values.all === true,
      };
      // An unreadable folder is left to pushModel, whose error names it.
      const notice = unoptimizedNotice(rest[0]!, await listModelFiles(rest[0]!).catch(() => []), choice);
      if (notice) process.stderr.write(notice);
      try {
        const pushed = await pushModel(rest[0]!, rest[1]!, {
          client,
          choice,
          onProgress: (p) => bar.update(p.name, p.loaded, p.total),
        });
        process.stdout.write(`${JSON.stringify(pushed, null, 2)}\n`);
      } finally {
        client.destroy();
      }
      return 0;
    }
    case 'optimize': {
      if (rest.length !== 1) break;
      const tolerance = values.tolerance === undefined ? undefined : Number(values.tolerance);
      if (tolerance !== undefined && !(tolerance >= 0)) {
        process.stderr.write(`error: --tolerance must be a number >= 0, got ${values.tolerance}\n`);
        return 2;
      }
      process.stdout.write(`${JSON.stringify(await optimizeModel(rest[0]!, { tolerance }), null, 2)}\n`);
      return 0;
    }
    case 'info': {
      if (rest.length !== 1) break;
      const client = rest[0]!.startsWith('s3://') ? createModelS3Client(config) : undefined;
      try {
        process.stdout.write(`${JSON.stringify(await describeUri(rest[0]!, client), null, 2)}\n`);
      } finally {
        client?.destroy();
      }
      return 0;
    }
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}

/**
 * Runs `work`, and if it fails, removes `dir` when `work` created it and left nothing in it (a
 * failed pull of a mistyped repo must not leave an empty folder behind). Partial downloads stay:
 * the next pull resumes them.
 */
async function withFolderRemovedIfLeftEmpty<T>(dir: string, work: () => Promise<T>): Promise<T> {
  const existed = existsSync(dir);
  try {
    return await work();
  } catch (err) {
    if (!existed) await removeIfEmpty(dir);
    throw err;
  }
}

async function removeIfEmpty(dir: string): Promise<void> {
  try {
    const entries = await readdir(dir, { recursive: true, withFileTypes: true });
    if (entries.some((e) => e.isFile() && e.name !== '.hub-pull.json')) return;
    await rm(dir, { recursive: true, force: true });
  } catch {
    // Nothing to remove.
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => (process.exitCode = code),
    (err: unknown) => {
      process.stderr.write(`\nerror: ${(err as Error)?.message ?? err}\n`);
      process.exitCode = 1;
    },
  );
}
