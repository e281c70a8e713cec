/** The machine description written beside the table: numbers only mean something with it. */
import * as os from 'node:os';
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';

export interface Machine {
  cpu: string;
  cores: number;
  memoryGiB: number;
  loadAverage: string;
  node: string;
  onnxruntimeNode: string;
  transformersJs: string;
  transformersOnnxruntime: string;
  platform: string;
  date: string;
}

/** The package.json a package resolves to (its `exports` may hide package.json itself). */
function packageJsonPath(name: string, from: string): string {
  let dir = path.dirname(createRequire(from).resolve(name));
  while (!existsSync(path.join(dir, 'package.json')) || !dir.includes(name)) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`no package.json for ${name}`);
    dir = parent;
  }
  return path.join(dir, 'package.json');
}

function packageVersion(name: string, from: string = __filename): string {
  try {
    return (JSON.parse(readFileSync(packageJsonPath(name, from), 'utf8')) as { version: string }).version;
  } catch {
    return 'not installed';
  }
}

export function describeMachine(): Machine {
  const cpus = os.cpus();
  // transformers.js may resolve its own onnxruntime-node copy; report the one it actually loads.
  let transformersOrt = 'not installed';
  try {
    transformersOrt = packageVersion('onnxruntime-node', packageJsonPath('@huggingface/transformers', __filename));
  } catch {
    /* not installed */
  }
  return {
    cpu: `${cpus[0]?.model.trim() ?? 'unknown'}`,
    cores: os.availableParallelism(),
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    loadAverage: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(' '),
    node: process.version,
    onnxruntimeNode: packageVersion('onnxruntime-node'),
    transformersJs: packageVersion('@huggingface/transformers'),
    transformersOnnxruntime: transformersOrt,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    date: new Date().toISOString(),
  };
}

/**
 * What the first touch of fresh memory costs here, per 4 KiB page: a fresh process maps a 64 MiB
 * buffer by writing one byte per page. The loader's download and the first session pay this for
 * every page they allocate, so it is the figure to scale this machine's cold-start rows by (a
 * virtual machine that shadows page tables pays far more per fault than one with nested paging).
 * Median of `runs` fresh processes; microseconds per page and milliseconds for the buffer.
 */
export function firstTouchCost(runs = 5): { usPerPage: number; msPer64MiB: number } {
  const bytes = 64 * 1024 * 1024;
  const script = `const t=performance.now();const b=Buffer.allocUnsafe(${bytes});for(let i=0;i<b.length;i+=4096)b[i]=1;process.stdout.write(String(performance.now()-t));`;
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    samples.push(Number(out));
  }
  samples.sort((a, b) => a - b);
  const ms = samples[samples.length >> 1]!;
  return { usPerPage: (ms * 1000) / (bytes / 4096), msPer64MiB: ms };
}
