/**
 * Bundles the self-hosted GraphiQL IDE (src/ide/app.tsx) and the demo page (src/demo/: demo.html
 * and demo.js, with the typed client of src/client/) with esbuild into dist/ide/, plus the
 * Monaco web workers the IDE needs, each with a precompressed .gz beside it (the API serves them
 * gzipped: the Lambda response limit is 6 MB).
 *
 *   npx tsx scripts/build-ide.ts            build
 *   npx tsx scripts/build-ide.ts --if-stale build only when a source is newer than the output
 */
import { build } from 'esbuild';
import {
  copyFileSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  existsSync,
} from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { IDE_BUILD_DIR } from '../src/ide/assets';

const root = path.resolve(__dirname, '..');
const outDir = path.join(root, IDE_BUILD_DIR);

const workers: Record<string, string> = {
  'editor.worker': 'monaco-editor/esm/vs/editor/editor.worker.js',
  'json.worker': 'monaco-editor/esm/vs/language/json/json.worker.js',
  'graphql.worker': 'monaco-graphql/esm/graphql.worker.js',
};

function newestSourceMtime(): number {
  const files = [
    ...['ide', 'demo', 'client', path.join('client', 'generated')].flatMap((dir) =>
      readdirSync(path.join(root, 'src', dir)).map((f) => path.join(root, 'src', dir, f)),
    ),
    __filename,
    path.join(root, 'package-lock.json'),
  ];
  return Math.max(...files.map((f) => statSync(f).mtimeMs));
}

function isStale(): boolean {
  const marker = path.join(outDir, 'app.js.gz');
  return !existsSync(marker) || statSync(marker).mtimeMs < newestSourceMtime();
}

export async function buildIde(): Promise<{
  outDir: string;
  files: Array<{ name: string; bytes: number; gzipBytes: number }>;
}> {
  const started = Date.now();
  rmSync(outDir, { recursive: true, force: true });
  mkdirSync(outDir, { recursive: true });
  const common = {
    bundle: true,
    minify: true,
    legalComments: 'none' as const,
    target: 'es2022',
    logLevel: 'warning' as const,
    define: { 'process.env.NODE_ENV': '"production"' },
    loader: { '.ttf': 'file' as const, '.woff': 'file' as const, '.woff2': 'file' as const },
    absWorkingDir: root,
  };
  await Promise.all([
    build({
      ...common,
      entryPoints: { app: path.join(root, 'src', 'ide', 'app.tsx'), demo: path.join(root, 'src', 'demo', 'demo.ts') },
      outdir: outDir,
      format: 'esm',
      jsx: 'automatic',
      // GraphiQL's setup-workers use import.meta.url; our app.tsx does too.
      platform: 'browser',
    }),
    build({
      ...common,
      entryPoints: Object.fromEntries(Object.entries(workers).map(([name, spec]) => [name, require.resolve(spec)])),
      outdir: outDir,
      format: 'iife',
      platform: 'browser',
    }),
  ]);
  copyFileSync(path.join(root, 'src', 'demo', 'demo.html'), path.join(outDir, 'demo.html'));
  const files = readdirSync(outDir).map((name) => {
    const data = readFileSync(path.join(outDir, name));
    const gz = gzipSync(data, { level: 9 });
    writeFileSync(path.join(outDir, `${name}.gz`), gz);
    return { name, bytes: data.length, gzipBytes: gz.length };
  });
  const total = files.reduce((sum, f) => sum + f.gzipBytes, 0);
  console.log(
    `IDE built in ${Date.now() - started} ms → ${path.relative(root, outDir)}/ (${(total / 1048576).toFixed(2)} MB gzipped)`,
  );
  return { outDir, files };
}

if (require.main === module) {
  if (process.argv.includes('--if-stale') && !isStale()) {
    console.log('IDE bundle is up to date.');
  } else {
    buildIde().catch((error) => {
      console.error(error);
      process.exit(1);
    });
  }
}
