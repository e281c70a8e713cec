/**
 * The generated resolver types and SDL (src/generated) match schema/*.graphql, and the whole
 * project type-checks. Both run the real tools, as a developer would.
 */
import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const root = path.resolve(__dirname, '..', '..');
const bin = (name: string) => path.join(root, 'node_modules', '.bin', name);

test('graphql-codegen --check: src/generated is up to date', async () => {
  // Exits 1 (rejecting here) when a generated file differs from what the schema produces.
  await expect(
    run(bin('graphql-codegen'), ['--config', 'codegen.yml', '--check'], { cwd: root }),
  ).resolves.toBeDefined();
});

test('tsc --noEmit -p . passes', async () => {
  const result = await run(bin('tsc'), ['--noEmit', '-p', '.'], { cwd: root, maxBuffer: 16 << 20 }).catch(
    (error) => error,
  );
  expect(result.stdout ?? '').toBe('');
  expect(result.code ?? 0).toBe(0);
}, 240_000);

test('tsc -p bench/tsconfig.json passes: the lab type-checks in its own project', async () => {
  const result = await run(bin('tsc'), ['-p', 'bench/tsconfig.json'], { cwd: root, maxBuffer: 16 << 20 }).catch(
    (error) => error,
  );
  expect(result.stdout ?? '').toBe('');
  expect(result.code ?? 0).toBe(0);
}, 240_000);

test('tsc -p tsconfig.ide.json passes: the browser IDE (esbuild bundles it without checking types)', async () => {
  const result = await run(bin('tsc'), ['-p', 'tsconfig.ide.json'], { cwd: root, maxBuffer: 16 << 20 }).catch(
    (error) => error,
  );
  expect(result.stdout ?? '').toBe('');
  expect(result.code ?? 0).toBe(0);
}, 240_000);
