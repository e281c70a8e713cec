/**
 * Bundles `child/<name>.ts` into one file in a fresh temp folder, as the Lambda code is bundled
 * (native addons external), so a child's start is one file's.
 */
export async function bundleChild(name: string): Promise<{ file: string; dir: string }> {
  const dir = mkdtempSync(path.join(os.tmpdir(), `qa-bench-${name}-`));
  const file = path.join(dir, `${name}.cjs`);
  await build({
    entryPoints: [path.join(__dirname, 'child', `${name}.ts`)],
    outfile: file,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'cjs',
    external: ['onnxruntime-node', 'tokenizers', '*.node'],
    logLevel: 'error',
  });
  return { file, dir };
}

/**
 * Fresh processes for cold start and memory. The child is bundled with esbuild first, as the Lambda
 * code is, so its start-up cost is that of one bundled file and not of tsx compiling TypeScript on
 * the fly. Native addons stay external and resolve from the repo's node_modules (NODE_PATH).
 */
import { fork, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { performance } from 'node:perf_hooks';
import { build } from 'esbuild';
import type { ColdReport, ServeReport } from './child/serve';

const REPO = path.resolve(__dirname, '..');
const TASKSET = '/usr/bin/taskset';

export class ChildBundle {
  private constructor(
    readonly file: string,
    private readonly dir: string,
  ) {}

  static async build(): Promise<ChildBundle> {
    const { file, dir } = await bundleChild('serve');
    return new ChildBundle(file, dir);
  }

  /**
   * Starts the child; resolves with its first report and the ms from fork to that report. With
   * `cpus` (a taskset list, e.g. "0") the child and all its threads run only on those cores.
   */
  async start<R = ColdReport | ServeReport>(
    env: Record<string, string>,
    options: { cpus?: string } = {},
  ): Promise<{ child: ChildProcess; report: R; wallMs: number }> {
    const t0 = performance.now();
    // taskset execs node in place: same pid, and the IPC channel's descriptor is inherited.
    const pinned = options.cpus ? { execPath: TASKSET, execArgv: ['-c', options.cpus, process.execPath] } : {};
    const child = fork(this.file, [], {
      // NODE_NO_WARNINGS: the AWS SDK's Node-version notice would only clutter the bench output.
      env: { ...process.env, ...env, NODE_PATH: path.join(REPO, 'node_modules'), NODE_NO_WARNINGS: '1' },
      execArgv: [],
      ...pinned,
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    const report = await new Promise<R>((resolve, reject) => {
      child.once('message', (m: R | { kind: 'error'; message: string }) => {
        if ((m as { kind?: string }).kind === 'error')
          reject(new Error(`bench child failed: ${(m as { message: string }).message}`));
        else resolve(m as R);
      });
      child.once('exit', (code) => reject(new Error(`bench child exited with ${code} before reporting`)));
      child.once('error', reject);
    });
    return { child, report, wallMs: performance.now() - t0 };
  }

  dispose(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** Resident set size (current and peak) of a process, in MiB, from /proc (Linux). */
export function procMemory(pid: number): { rssMb: number; hwmMb: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
  return { rssMb: kb('VmRSS') / 1024, hwmMb: kb('VmHWM') / 1024 };
}

export function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    if (child.connected) child.send('stop');
    else child.kill('SIGTERM');
  });
}
