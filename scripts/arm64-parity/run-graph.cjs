// Runs ONNX graphs on given feeds with onnxruntime-node and writes every output, raw. Plain
// CommonJS with no build step, so the same file runs on the host's Node and on Node 22 for arm64
// under qemu (scripts/arm64-parity.ts starts it both ways, from the repository root).
//
//   node run-graph.cjs <job.json>
//
// job: { items: [{ model, feeds: [{ name: { type, dims, data: number[] | base64: string } }] }],
//        optimization: 'disabled' | 'all', threads, out, optimizedModel?, config? }
// out: { arch, node, ort, items: [[{ ms, outputs: { name: { type, dims, base64 } } }]] }
'use strict';
const { readFileSync, writeFileSync } = require('node:fs');
const ort = require('onnxruntime-node');

const Typed = { int64: BigInt64Array, int32: Int32Array, float32: Float32Array, uint8: Uint8Array, int8: Int8Array };

function tensor(f) {
  const T = Typed[f.type];
  if (f.base64 !== undefined) {
    const bytes = Buffer.from(f.base64, 'base64');
    // Copied into a fresh, aligned buffer: a Buffer's offset need not be a multiple of 8.
    const data = new T(bytes.byteLength / T.BYTES_PER_ELEMENT);
    new Uint8Array(data.buffer).set(bytes);
    return new ort.Tensor(f.type, data, f.dims);
  }
  return new ort.Tensor(f.type, T === BigInt64Array ? BigInt64Array.from(f.data.map(BigInt)) : T.from(f.data), f.dims);
}

async function main() {
  const job = JSON.parse(readFileSync(process.argv[2], 'utf8'));
  const items = [];
  for (const item of job.items) {
    const session = await ort.InferenceSession.create(item.model, {
      graphOptimizationLevel: job.optimization,
      intraOpNumThreads: job.threads ?? 1,
      interOpNumThreads: 1,
      executionMode: 'sequential',
      // Session configuration entries, e.g. { 'mlas.disable_kleidiai': '1' }.
      ...(job.config ? { extra: job.config } : {}),
      // The graph after this machine's optimizations (fusions could differ by CPU).
      ...(job.optimizedModel ? { optimizedModelFilePath: job.optimizedModel } : {}),
    });
    const runs = [];
    for (const feeds of item.feeds) {
      const tensors = Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, tensor(f)]));
      const started = performance.now();
      const result = await session.run(tensors);
      const ms = performance.now() - started;
      const outputs = {};
      for (const [name, t] of Object.entries(result)) {
        const d = t.data;
        outputs[name] = {
          type: t.type,
          dims: t.dims,
          base64: Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64'),
        };
      }
      runs.push({ ms, outputs });
    }
    await session.release();
    items.push(runs);
  }
  writeFileSync(job.out, JSON.stringify({ arch: process.arch, node: process.version, ort: ort.env.versions, items }));
}
main().catch((error) => {
  console.error(error);
  process.exit(1);
});
