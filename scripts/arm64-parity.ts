/**
 * `npx tsx scripts/arm64-parity.ts [answers] [nodes] [kernels] [full] [--windows N] [--full-windows N]`
 *
 * Why the arm64 package's int8 answers differed from x86_64's, measured once (~15 minutes here;
 * docs/deploy.md quotes the output; too slow for `npm test`). On an x86_64 machine the arm64 side
 * runs under qemu-user with an ARM /proc/cpuinfo (test/deploy/arm64-emulation.ts), for `-cpu`
 * models that make onnxruntime pick different kernels: cortex-a72 (no dot product), neoverse-n1
 * (Graviton2's core, dot product), max (qemu's default: also i8mm, SVE2 and SME), and `max` without
 * SME or with onnxruntime's KleidiAI kernels switched off (the session option
 * `mlas.disable_kleidiai`; graph runs only, the packaged engine does not pass it).
 *
 * - answers: the packaged handlers (x86_64 on Node 22 x64; arm64 on Node 22 arm64 per -cpu) answer
 *   the 120 reference cases in fp32 and int8; matches against transformers v4.53's answers
 *   (test/fixtures/reference-qa), compared as its README says.
 * - nodes: the reference int8 graph, as exported and as onnxruntime optimizes it, with every node
 *   output made a graph output, optimizations off (each node its own kernel), on the first window
 *   of some cases: the first node, in graph order, whose outputs differ between x86_64 and arm64
 *   at all and by more than 1% of its range, and the logits.
 * - kernels: each computing node of the optimized graph cut out alone and fed x86_64's values of
 *   its inputs, so that a difference is that kernel's own, not one carried from earlier nodes.
 * - full: the project's full-size random-weight DistilBERT (generated, same graph pattern as a
 *   `quantize_dynamic` export) in fp32 and int8 on both architectures: top-1 span agreement with
 *   x86_64 fp32 and the largest logit difference.
 *
 * The graph runs go through scripts/arm64-parity/run-graph.cjs, the same file on both sides, with
 * the repository's onnxruntime-node (whose arm64 library is byte for byte the one the package ships).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { ROOT, buildBundle, packageArch, type Architecture } from './build-lambda';
import { ensureTestModel } from './test-models';
import { inspectOnnx, modelProto } from './test-models/onnx-inspect';
import { ProtoMessage } from './test-models/protobuf';
import { QATokenizer } from '../src/model/tokenizer';
import { DEFAULT_QA_OPTIONS } from '../src/model/options';
import { cutWindows } from '../src/model/windows';
import { DEFAULT_LIMITS, LIMIT_VARIABLES } from '../src/server/config';
import { arm64Launcher, type QemuCpu } from '../test/deploy/arm64-emulation';
import {
  MODEL_BUCKET,
  MODEL_PARAMS,
  MODEL_PREFIX,
  httpApiEvent,
  invokeArtifact,
  lambdaNode,
} from '../test/deploy/helpers';
import {
  ANSWER_MANY_QUERY,
  REFERENCE_MODEL_DIR,
  answerInput,
  compareAnswers,
  referenceCases,
  referenceExpected,
  requestsWithinLimits,
  type Precision,
  type ReferenceAnswer,
  type ReferenceCase,
} from '../test/helpers/reference-qa';
import { startS3 } from '../test/helpers/s3rver';
import { Zip } from '../test/deploy/zip';

const CPUS: QemuCpu[] = ['cortex-a72', 'neoverse-n1', 'max'];
const RUNNER = path.join(ROOT, 'scripts', 'arm64-parity', 'run-graph.cjs');
const work = mkdtempSync(path.join(os.tmpdir(), 'arm64-parity-'));

function log(message: string): void {
  process.stderr.write(`[arm64-parity ${new Date().toISOString().slice(11, 19)}] ${message}\n`);
}

/**
 * Where a graph or a package runs: this machine, or Node 22 for arm64 under qemu with a `-cpu`
 * model; `config` adds session configuration entries.
 */
type Side = { name: string; node: string; launcher: string[]; config?: Record<string, string> };
async function sides(options: { variants?: boolean } = {}): Promise<{ host: Side; arm: Side[] }> {
  const arm: Side[] = [];
  for (const cpu of CPUS) {
    const launcher = arm64Launcher(cpu);
    arm.push({ name: `arm64 ${cpu}`, node: (await lambdaNode('arm64', launcher)).path, launcher });
  }
  if (options.variants) {
    // What makes `max` differ: its SME (qemu models it; Graviton2-4 do not have it). Without SME,
    // and with SME but onnxruntime's KleidiAI kernels switched off by their session option.
    const node = arm[0]!.node;
    arm.push({ name: 'arm64 max,sme=off', node, launcher: arm64Launcher('max', ',sme=off') });
    arm.push({
      name: 'arm64 max + mlas.disable_kleidiai',
      node,
      launcher: arm64Launcher('max'),
      config: { 'mlas.disable_kleidiai': '1' },
    });
  }
  return { host: { name: `${process.arch} host`, node: process.execPath, launcher: [] }, arm };
}

// ---------------------------------------------------------------------------------------------
// Graph runs

type Feeds = Record<string, { type: string; dims: number[]; data?: number[]; base64?: string }>;
interface RawTensor {
  type: string;
  dims: number[];
  base64: string;
}
interface GraphRun {
  ms: number;
  outputs: Record<string, RawTensor>;
}

let jobCounter = 0;
function runGraph(
  side: Side,
  model: string,
  feeds: Feeds[],
  optimization: 'disabled' | 'all',
  optimizedModel?: string,
): GraphRun[] {
  return runGraphs(side, [{ model, feeds }], optimization, optimizedModel)[0]!;
}

/** Several models in one process (one qemu start-up, which costs seconds). */
function runGraphs(
  side: Side,
  items: Array<{ model: string; feeds: Feeds[] }>,
  optimization: 'disabled' | 'all',
  optimizedModel?: string,
): GraphRun[][] {
  const job = path.join(work, `job-${++jobCounter}.json`);
  const out = path.join(work, `out-${jobCounter}.json`);
  writeFileSync(job, JSON.stringify({ items, optimization, threads: 1, out, optimizedModel, config: side.config }));
  const [command, ...prefix] = [...side.launcher, side.node];
  const run = spawnSync(command!, [...prefix, RUNNER, job], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 3_600_000,
    maxBuffer: 64 << 20,
  });
  if (run.status !== 0) throw new Error(`${side.name}: run-graph failed (${run.status ?? run.signal}): ${run.stderr}`);
  const result = JSON.parse(readFileSync(out, 'utf8')) as { items: GraphRun[][] };
  rmSync(out);
  return result.items;
}

function values(t: RawTensor): number[] {
  const bytes = Buffer.from(t.base64, 'base64');
  const ab = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
  switch (t.type) {
    case 'float32':
      return [...new Float32Array(ab)];
    case 'int32':
      return [...new Int32Array(ab)];
    case 'uint8':
      return [...new Uint8Array(ab)];
    case 'int8':
      return [...new Int8Array(ab)];
    case 'int64':
      return [...new BigInt64Array(ab)].map(Number);
    case 'bool':
      return [...new Uint8Array(ab)];
    default:
      throw new Error(`unhandled tensor type ${t.type}`);
  }
}

interface Difference {
  /** Elements that differ at all. */
  differing: number;
  count: number;
  maxAbs: number;
  /** Largest |value| of the reference tensor, to read maxAbs against. */
  range: number;
}
function difference(a: RawTensor, b: RawTensor): Difference {
  const x = values(a);
  const y = values(b);
  if (x.length !== y.length) throw new Error(`shapes differ: ${a.dims} vs ${b.dims}`);
  let differing = 0;
  let maxAbs = 0;
  let range = 0;
  for (let i = 0; i < x.length; i++) {
    const d = Math.abs(x[i]! - y[i]!);
    if (d !== 0) differing++;
    if (d > maxAbs) maxAbs = d;
    range = Math.max(range, Math.abs(x[i]!));
  }
  return { differing, count: x.length, maxAbs, range };
}

/**
 * The model with every node output added to the graph's outputs. Protobuf merges a repeated
 * embedded message field: the bytes of a second ModelProto.graph holding only `output` entries,
 * appended to the file, extend the graph's outputs without re-encoding anything else. Names only
 * (no types): onnxruntime infers them.
 */
function withAllOutputs(modelBytes: Buffer): {
  bytes: Buffer;
  order: Array<{ node: string; opType: string; outputs: string[] }>;
} {
  const model = inspectOnnx(modelBytes);
  const declared = new Set(model.outputs.map((o) => o.name));
  const graph = new ProtoMessage();
  for (const n of model.nodes)
    for (const o of n.outputs) if (o && !declared.has(o)) graph.message(12, new ProtoMessage().string(1, o));
  return {
    bytes: Buffer.concat([modelBytes, new ProtoMessage().message(7, graph).toBytes()]),
    order: model.nodes.map((n) => ({ node: n.name, opType: n.opType, outputs: n.outputs.filter(Boolean) })),
  };
}

/** The windows the engine would run for these cases (its own tokenizer and window cutting), first `perCase` of each. */
async function windowsOf(
  cases: ReferenceCase[],
  modelDir: string,
  inputNames: string[],
  perCase = 1,
): Promise<Array<{ id: string; feeds: Feeds }>> {
  const tokenizer = QATokenizer.fromJson(readFileSync(path.join(modelDir, 'tokenizer.json'), 'utf8'));
  const out: Array<{ id: string; feeds: Feeds }> = [];
  for (const c of cases) {
    const q = await tokenizer.encode(c.question);
    const ctx = await tokenizer.encode(c.context);
    const windows = cutWindows(q.ids, ctx.ids, tokenizer.layout, {
      maxSeqLength: c.max_seq_len ?? DEFAULT_QA_OPTIONS.maxSeqLength,
      docStride: c.doc_stride ?? DEFAULT_QA_OPTIONS.docStride,
    });
    for (const [i, w] of windows.slice(0, perCase).entries()) {
      const dims = [1, w.inputIds.length];
      const feeds: Feeds = {};
      for (const name of inputNames) {
        const data =
          name === 'input_ids' ? w.inputIds : name === 'attention_mask' ? w.inputIds.map(() => 1) : w.typeIds;
        feeds[name] = { type: 'int64', dims, data };
      }
      out.push({ id: `${c.id}#${i}`, feeds });
    }
  }
  return out;
}

const fmt = (n: number, digits = 3): string =>
  n === 0 ? '0' : Math.abs(n) < 1e-3 || Math.abs(n) >= 1e4 ? n.toExponential(digits - 1) : n.toPrecision(digits);

// ---------------------------------------------------------------------------------------------
// answers: the packaged handlers on the 120 reference cases

async function answers(): Promise<void> {
  log('answers: packaging both architectures');
  await buildBundle({ quiet: true });
  const cases = referenceCases();
  const chunks = await requestsWithinLimits(cases, DEFAULT_LIMITS);
  const events = chunks.map((chunk) =>
    httpApiEvent({
      method: 'POST',
      path: '/graphql',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: ANSWER_MANY_QUERY, variables: { inputs: chunk.map(answerInput) } }),
    }),
  );
  const s3 = await startS3([MODEL_BUCKET]);
  for (const file of ['config.json', 'tokenizer.json', 'onnx/model.onnx', 'onnx/model_quantized.onnx']) {
    await s3.client.send(
      new PutObjectCommand({
        Bucket: MODEL_BUCKET,
        Key: `${MODEL_PREFIX}${file}`,
        Body: readFileSync(path.join(REFERENCE_MODEL_DIR, file)),
      }),
    );
  }
  const roots = new Map<Architecture, { root: string; fn: any }>();
  for (const arch of ['x86_64', 'arm64'] as const) {
    const { dir } = packageArch(arch, { stage: 'prod', params: MODEL_PARAMS, suffix: 'parity' });
    const root = path.join(work, `task-${arch}`);
    Zip.open(path.join(dir, 'serverless-qa-graphql.zip')).extractTo(root);
    const template = JSON.parse(readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'));
    roots.set(arch, {
      root,
      fn: Object.values<any>(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function'),
    });
    rmSync(dir, { recursive: true, force: true });
  }
  const x64Node = (await lambdaNode('x64')).path;
  const { arm } = await sides({ variants: true });
  const runs: Array<{
    name: string;
    arch: Architecture;
    node: string;
    launcher: string[];
    variant: boolean;
    config?: Record<string, string>;
  }> = [
    { name: 'x86_64 (this machine)', arch: 'x86_64', node: x64Node, launcher: [], variant: false },
    ...arm.map((s) => ({
      name: s.name,
      arch: 'arm64' as const,
      node: s.node,
      launcher: s.launcher,
      variant: s.name.includes('sme=off') || !!s.config,
      config: s.config,
    })),
  ];
  const lines = [
    '| package, CPU | precision | identical to the reference (of 120) | differing cases | run, s |',
    '| --- | --- | --: | --- | --: |',
  ];
  try {
    for (const precision of ['fp32', 'int8'] as Precision[]) {
      const expected = referenceExpected(precision);
      for (const r of runs) {
        // The SME variants matter for int8 only (the fused int8 matmul is what SME changes).
        if (r.variant && precision === 'fp32') continue;
        // The packaged engine has no way to pass session entries: those runs are graph runs only.
        if (r.config) continue;
        const { root, fn } = roots.get(r.arch)!;
        const started = Date.now();
        const run = await invokeArtifact({
          node: r.node,
          launcher: r.launcher,
          taskRoot: root,
          fn,
          env: {
            ...s3.env,
            MODEL_QUANTIZED: String(precision === 'int8'),
            [LIMIT_VARIABLES.maxContextLength]: '30000',
          },
          tmpDir: mkdtempSync(path.join(work, 'sandbox-')),
          events,
          timeoutMs: 1_800_000,
        });
        const got = run.results.flatMap(
          (x) =>
            JSON.parse(x.result.body!).data.answerMany as Array<{ answers: ReferenceAnswer[] | null; error: unknown }>,
        );
        const diffs = cases
          .map((c, i) => ({
            id: c.id,
            flags: expected.get(c.id)!.flags,
            d: got[i]!.error
              ? `error ${JSON.stringify(got[i]!.error)}`
              : compareAnswers(expected.get(c.id)!.answers, got[i]!.answers!),
          }))
          .filter((x) => x.d !== null);
        const seconds = ((Date.now() - started) / 1000).toFixed(0);
        log(`answers ${precision} ${r.name}: ${120 - diffs.length}/120 in ${seconds} s`);
        for (const d of diffs.slice(0, 5)) log(`  ${d.id}${d.flags ? ` (${d.flags.join(',')})` : ''}: ${d.d}`);
        const listed =
          diffs.length === 0
            ? '—'
            : diffs.length <= 6
              ? diffs.map((d) => d.id + (d.flags ? ` (${d.flags.join(',')})` : '')).join(', ')
              : `${diffs.length} cases`;
        lines.push(`| ${r.name} | ${precision} | ${120 - diffs.length} | ${listed} | ${seconds} |`);
      }
    }
  } finally {
    await s3.close();
  }
  console.log(`\n### answers: packaged handlers, 120 reference cases\n\n${lines.join('\n')}\n`);
}

// ---------------------------------------------------------------------------------------------
// nodes: the first differing node of the reference int8 graph

/** A difference larger than float noise or one quantization step: over 1% of the tensor's range. */
const SIGNIFICANT = 1e-2;

async function nodes(windowCount: number): Promise<void> {
  const file = path.join(REFERENCE_MODEL_DIR, 'onnx', 'model_quantized.onnx');
  const inspected = inspectOnnx(readFileSync(file));
  // Cases spread over the groups (short, long, unicode, options).
  const all = referenceCases();
  const step = Math.max(1, Math.floor(all.length / windowCount));
  const picked = all.filter((_, i) => i % step === 0).slice(0, windowCount);
  const windows = await windowsOf(
    picked,
    REFERENCE_MODEL_DIR,
    inspected.inputs.map((i) => i.name),
  );
  const feeds = windows.map((w) => w.feeds);
  const { host, arm } = await sides();

  // The graph each CPU actually runs: onnxruntime's optimized model, saved by each side.
  const optimizedFiles: string[] = [];
  const graphs = new Map<string, string>();
  for (const side of [host, ...arm]) {
    const optimized = path.join(work, `optimized-${side.name.replace(/\W+/g, '-')}.onnx`);
    runGraph(side, file, feeds.slice(0, 1), 'all', optimized);
    optimizedFiles.push(optimized);
    const counts = new Map<string, number>();
    for (const n of inspectOnnx(readFileSync(optimized)).nodes) {
      const k = `${n.domain ? `${n.domain}.` : ''}${n.opType}`;
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    graphs.set(
      side.name,
      [...counts]
        .sort()
        .map(([k, v]) => `${k} ${v}`)
        .join(', '),
    );
  }
  const distinct = new Set(graphs.values());
  console.log(`\n### nodes: the optimized int8 graph per CPU\n`);
  if (distinct.size === 1) console.log(`Identical op lists on ${[...graphs.keys()].join(', ')}: ${[...distinct][0]}`);
  else for (const [k, v] of graphs) console.log(`- ${k}: ${v}`);

  const reference = { unfused: file, fused: optimizedFiles[0]! };
  for (const [label, model] of Object.entries(reference)) {
    const { bytes: exposed, order } = withAllOutputs(readFileSync(model));
    const exposedFile = path.join(work, `${label}.all-outputs.onnx`);
    writeFileSync(exposedFile, exposed);
    log(`nodes (${label}): ${order.length} nodes`);
    const ref = runGraph(host, exposedFile, feeds, 'disabled');
    const lines = [
      `\n### nodes: ${label === 'unfused' ? 'the int8 graph as exported' : 'the int8 graph as onnxruntime optimizes it (saved on x86_64)'}, every node output compared with x86_64's, ${windows.length} windows, graph optimizations off\n`,
      `| CPU | first node that differs at all (windows) | first node that differs by more than ${SIGNIFICANT * 100}% of its range (windows): worst difference there | logits: max abs diff | outputs differing by op type (max abs diff) |`,
      '| --- | --- | --- | --: | --- |',
    ];
    for (const side of arm) {
      log(`nodes (${label}): ${side.name}`);
      const got = runGraph(side, exposedFile, feeds, 'disabled');
      const firstAny = new Map<string, number>();
      const firstBig = new Map<string, { windows: number; worst: string; worstAbs: number }>();
      const perOp = new Map<string, { outputs: number; differing: number; maxAbs: number }>();
      let logits = 0;
      for (let w = 0; w < windows.length; w++) {
        let any: string | null = null;
        let big: string | null = null;
        for (const n of order) {
          const id = `${n.node || n.outputs[0]} (${n.opType})`;
          for (const o of n.outputs) {
            const a = ref[w]!.outputs[o];
            const b = got[w]!.outputs[o];
            if (!a || !b) continue;
            const d = difference(a, b);
            const op = perOp.get(n.opType) ?? { outputs: 0, differing: 0, maxAbs: 0 };
            op.outputs++;
            if (d.differing > 0) op.differing++;
            op.maxAbs = Math.max(op.maxAbs, d.maxAbs);
            perOp.set(n.opType, op);
            if (d.differing > 0 && any === null) any = id;
            if (d.maxAbs > SIGNIFICANT * d.range && big === null) {
              big = id;
              const entry = firstBig.get(id) ?? { windows: 0, worst: '', worstAbs: -1 };
              entry.windows++;
              if (d.maxAbs > entry.worstAbs) {
                entry.worstAbs = d.maxAbs;
                entry.worst = `${fmt(d.maxAbs)} of range ${fmt(d.range)}, ${d.differing}/${d.count} elements differ (${windows[w]!.id}, output ${o})`;
              }
              firstBig.set(id, entry);
              log(
                `  ${windows[w]!.id}: first significant difference at ${id} ${o}: max abs ${d.maxAbs} (range ${d.range}), ${d.differing}/${d.count}`,
              );
            }
          }
        }
        if (any !== null) firstAny.set(any, (firstAny.get(any) ?? 0) + 1);
        for (const o of inspected.outputs)
          logits = Math.max(logits, difference(ref[w]!.outputs[o.name]!, got[w]!.outputs[o.name]!).maxAbs);
      }
      const list = (m: Map<string, number>) => [...m].map(([k, v]) => `${k}: ${v}`).join('; ') || 'none';
      lines.push(
        `| ${side.name} | ${list(firstAny)} | ${[...firstBig].map(([k, v]) => `${k}: ${v.windows}; ${v.worst}`).join('; ') || 'none'} | ${fmt(logits)} | ${[
          ...perOp,
        ]
          .filter(([, v]) => v.differing > 0)
          .map(([k, v]) => `${k} ${v.differing}/${v.outputs} (${fmt(v.maxAbs)})`)
          .join(', ')} |`,
      );
    }
    console.log(lines.join('\n'));
  }
}

// ---------------------------------------------------------------------------------------------
// kernels: each node of the optimized graph alone, on identical inputs

const ELEM_TYPE: Record<string, number> = { float32: 1, uint8: 2, int8: 3, int32: 6, int64: 7 };

/** Op types whose kernels compute (shape and copy ops cannot differ between CPUs). */
const COMPUTING = new Set([
  'DynamicQuantizeMatMul',
  'MatMulIntegerToFloat',
  'DynamicQuantizeLinear',
  'MatMulInteger',
  'LayerNormalization',
  'Gelu',
  'Softmax',
  'FusedMatMul',
  'MatMul',
  'Add',
  'Mul',
  'Sub',
]);

/**
 * Every computing node of the graph `x86_64` optimizes the int8 model into, cut out as a one-node
 * model whose inputs are x86_64's values of that node's inputs: each CPU's kernel gets identical
 * inputs, so a difference is the kernel's own, not carried from earlier nodes.
 */
async function kernels(windowCount: number): Promise<void> {
  const file = path.join(REFERENCE_MODEL_DIR, 'onnx', 'model_quantized.onnx');
  const inspected = inspectOnnx(readFileSync(file));
  const all = referenceCases();
  const step = Math.max(1, Math.floor(all.length / windowCount));
  const windows = await windowsOf(
    all.filter((_, i) => i % step === 0).slice(0, windowCount),
    REFERENCE_MODEL_DIR,
    inspected.inputs.map((i) => i.name),
  );
  const feeds = windows.map((w) => w.feeds);
  const { host, arm } = await sides({ variants: true });
  const optimized = path.join(work, 'optimized-host.onnx');
  runGraph(host, file, feeds.slice(0, 1), 'all', optimized);
  const { bytes: exposed } = withAllOutputs(readFileSync(optimized));
  const exposedFile = path.join(work, 'optimized-host.all-outputs.onnx');
  writeFileSync(exposedFile, exposed);
  const hostValues = runGraph(host, exposedFile, feeds, 'disabled');

  const Model = modelProto();
  const model = Model.toObject(Model.decode(readFileSync(optimized)), { longs: Number }) as any;
  const initializers = new Map<string, any>((model.graph.initializer ?? []).map((t: any) => [t.name, t]));
  const graphInputs = new Set(inspected.inputs.map((i) => i.name));
  const items: Array<{ model: string; feeds: Feeds[] }> = [];
  const cut: Array<{ node: string; opType: string; outputs: string[] }> = [];
  for (const [k, node] of (model.graph.node as any[]).entries()) {
    if (!COMPUTING.has(node.opType)) continue;
    const live = (node.input as string[]).filter((i) => i && !initializers.has(i));
    if (live.some((i) => !graphInputs.has(i) && !hostValues[0]!.outputs[i])) continue;
    const valueOf = (w: number, name: string): RawTensor =>
      graphInputs.has(name)
        ? {
            type: 'int64',
            dims: feeds[w]![name]!.dims,
            base64: Buffer.from(BigInt64Array.from(feeds[w]![name]!.data!.map(BigInt)).buffer).toString('base64'),
          }
        : hostValues[w]!.outputs[name]!;
    const one = {
      irVersion: model.irVersion,
      opsetImport: model.opsetImport,
      producerName: 'arm64-parity',
      graph: {
        name: `node-${k}`,
        node: [node],
        initializer: (node.input as string[]).filter((i) => initializers.has(i)).map((i) => initializers.get(i)),
        input: live.map((name) => {
          const v = valueOf(0, name);
          return {
            name,
            type: {
              tensorType: {
                elemType: ELEM_TYPE[v.type],
                shape: { dim: v.dims.map((_, d) => ({ dimParam: `d${d}` })) },
              },
            },
          };
        }),
        output: (node.output as string[]).filter(Boolean).map((name) => ({ name })),
      },
    };
    const modelFile = path.join(work, `node-${k}.onnx`);
    writeFileSync(modelFile, Model.encode(Model.fromObject(one)).finish());
    items.push({
      model: modelFile,
      feeds: feeds.map((_, w) => Object.fromEntries(live.map((name) => [name, valueOf(w, name)]))),
    });
    cut.push({
      node: node.name || node.output[0],
      opType: node.opType,
      outputs: (node.output as string[]).filter(Boolean),
    });
  }
  log(`kernels: ${cut.length} nodes cut out, ${windows.length} windows`);
  const ref = runGraphs(host, items, 'disabled');

  // DynamicQuantizeMatMul against exact arithmetic: A (float) times the int8 weights dequantized,
  // plus bias, in float64. Which side is nearer tells a different rounding from a different method.
  const dqmm = [...cut.entries()].filter(([, c]) => c.opType === 'DynamicQuantizeMatMul').map(([i]) => i);
  const exact = new Map<number, number[][]>();
  for (const i of dqmm) {
    const node = (model.graph.node as any[]).find((n) => (n.name || n.output[0]) === cut[i]!.node);
    const [aName, bName, scaleName, , biasName] = node.input as string[];
    const b = initializers.get(bName!);
    const [K, N] = b.dims as number[];
    const bq = new Int8Array(Uint8Array.from(b.rawData).buffer);
    const scale = new Float32Array(Uint8Array.from(initializers.get(scaleName!).rawData).buffer)[0]!;
    const bias = biasName
      ? new Float32Array(Uint8Array.from(initializers.get(biasName).rawData).buffer)
      : new Float32Array(N!);
    exact.set(
      i,
      windows.map((_, w) => {
        const a = values(items[i]!.feeds[w]![aName!] as RawTensor);
        const rows = a.length / K!;
        const out: number[] = [];
        for (let m = 0; m < rows; m++)
          for (let n = 0; n < N!; n++) {
            let sum = 0;
            for (let k = 0; k < K!; k++) sum += a[m * K! + k]! * bq[k * N! + n]! * scale;
            out.push(sum + bias[n]!);
          }
        return out;
      }),
    );
  }
  const errorOf = (runs: GraphRun[][], i: number): number => {
    let worst = 0;
    for (const [w, want] of exact.get(i)!.entries()) {
      const got = values(runs[i]![w]!.outputs[cut[i]!.outputs[0]!]!);
      for (let j = 0; j < want.length; j++) worst = Math.max(worst, Math.abs(got[j]! - want[j]!));
    }
    return worst;
  };
  const exactLines = [
    `\n### kernels: DynamicQuantizeMatMul against exact arithmetic (float64, same int8 weights), max abs error over ${windows.length} windows\n`,
    `| node | ${[host, ...arm].map((x) => x.name).join(' | ')} |`,
    `| --- | ${[host, ...arm].map(() => '--:').join(' | ')} |`,
  ];
  const errors = new Map<string, number[]>([[host.name, dqmm.map((i) => errorOf(ref, i))]]);
  const lines = [
    `\n### kernels: each computing node of the optimized int8 graph alone, on x86_64's inputs, ${windows.length} windows\n`,
    '| CPU | op type (nodes) | nodes whose outputs differ | largest difference: max abs (tensor range), elements differing |',
    '| --- | --- | --: | --- |',
  ];
  for (const side of arm) {
    log(`kernels: ${side.name}`);
    const got = runGraphs(side, items, 'disabled');
    errors.set(
      side.name,
      dqmm.map((i) => errorOf(got, i)),
    );
    const byOp = new Map<string, { nodes: number; differing: number; worst: Difference & { where: string } }>();
    for (const [i, c] of cut.entries()) {
      let nodeDiffers = false;
      const entry = byOp.get(c.opType) ?? {
        nodes: 0,
        differing: 0,
        worst: { differing: 0, count: 0, maxAbs: -1, range: 0, where: '' },
      };
      entry.nodes++;
      for (let w = 0; w < windows.length; w++) {
        for (const o of c.outputs) {
          const d = difference(ref[i]![w]!.outputs[o]!, got[i]![w]!.outputs[o]!);
          if (d.differing > 0) nodeDiffers = true;
          if (d.maxAbs / (d.range || 1) > entry.worst.maxAbs / (entry.worst.range || 1))
            entry.worst = { ...d, where: `${c.node} → ${o}, ${windows[w]!.id}` };
        }
      }
      if (nodeDiffers) entry.differing++;
      byOp.set(c.opType, entry);
    }
    for (const [op, e] of byOp) {
      const w = e.worst;
      lines.push(
        `| ${side.name} | ${op} (${e.nodes}) | ${e.differing} | ${w.maxAbs <= 0 ? 'identical' : `${fmt(w.maxAbs)} (${fmt(w.range)}), ${w.differing}/${w.count} — ${w.where}`} |`,
      );
    }
  }
  console.log(lines.join('\n'));
  for (const [j, i] of dqmm.entries())
    exactLines.push(`| ${cut[i]!.node} | ${[host, ...arm].map((x) => fmt(errors.get(x.name)![j]!)).join(' | ')} |`);
  console.log(exactLines.join('\n'));
}

// ---------------------------------------------------------------------------------------------
// full: the full-size model, four configurations

/** The best span of a window as the engine scores it (start + end logits over context tokens, end ≥ start, ≤ 15 tokens). */
function bestSpan(start: number[], end: number[], contextFrom: number, contextTo: number): string {
  let best = -Infinity;
  let span = '';
  for (let s = contextFrom; s < contextTo; s++) {
    for (let e = s; e < Math.min(contextTo, s + 15); e++) {
      const v = start[s]! + end[e]!;
      if (v > best) {
        best = v;
        span = `${s}-${e}`;
      }
    }
  }
  return span;
}

async function full(windowCount: number): Promise<void> {
  const dir = await ensureTestModel({ size: 'full', variant: 'distilbert' });
  const files = { fp32: path.join(dir, 'onnx', 'model.onnx'), int8: path.join(dir, 'onnx', 'model_quantized.onnx') };
  const inspected = inspectOnnx(readFileSync(files.int8));
  const names = inspected.inputs.map((i) => i.name);
  const [startName, endName] = inspected.outputs.map((o) => o.name);
  // Short cases: one window each, 60–200 tokens (emulating a full-size window costs seconds).
  const picked = referenceCases()
    .filter((c) => c.id.startsWith('pub-short'))
    .slice(0, windowCount);
  const windows = await windowsOf(picked, dir, names);
  const feeds = windows.map((w) => w.feeds);
  const { host, arm } = await sides({ variants: true });
  const on = (name: string): Side => arm.find((s) => s.name === `arm64 ${name}`)!;
  const configs: Array<{ name: string; side: Side; precision: Precision }> = [
    { name: 'x86_64 fp32', side: host, precision: 'fp32' },
    { name: 'x86_64 int8', side: host, precision: 'int8' },
    { name: 'arm64 (neoverse-n1) fp32', side: on('neoverse-n1'), precision: 'fp32' },
    { name: 'arm64 (neoverse-n1) int8', side: on('neoverse-n1'), precision: 'int8' },
    { name: 'arm64 (cortex-a72) int8', side: on('cortex-a72'), precision: 'int8' },
    { name: 'arm64 (max: SME) int8', side: on('max'), precision: 'int8' },
    { name: 'arm64 (max) int8, mlas.disable_kleidiai', side: on('max + mlas.disable_kleidiai'), precision: 'int8' },
  ];
  const results = new Map<string, GraphRun[]>();
  for (const c of configs) {
    const started = Date.now();
    results.set(c.name, runGraph(c.side, files[c.precision], feeds, 'all'));
    log(`full: ${c.name} on ${windows.length} windows in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  }
  const ref = results.get('x86_64 fp32')!;
  const lines = [
    `\n### full: full-size DistilBERT (random weights), ${windows.length} windows of ${Math.min(...windows.map((w) => w.feeds[names[0]!]!.dims[1]!))}–${Math.max(...windows.map((w) => w.feeds[names[0]!]!.dims[1]!))} tokens, optimizations on\n`,
    '| configuration | top-1 span = x86_64 fp32 | largest logit difference from x86_64 fp32 | from x86_64 int8 | logit range (x86_64 fp32) | ms per window |',
    '| --- | --: | --: | --: | --: | --: |',
  ];
  const int8Ref = results.get('x86_64 int8')!;
  for (const c of configs) {
    const got = results.get(c.name)!;
    let agree = 0;
    let maxDiff = 0;
    let maxDiffInt8 = 0;
    let range = 0;
    for (let w = 0; w < windows.length; w++) {
      const a = { s: values(ref[w]!.outputs[startName!]!), e: values(ref[w]!.outputs[endName!]!) };
      const b = { s: values(got[w]!.outputs[startName!]!), e: values(got[w]!.outputs[endName!]!) };
      const q = { s: values(int8Ref[w]!.outputs[startName!]!), e: values(int8Ref[w]!.outputs[endName!]!) };
      const ids = windows[w]!.feeds.input_ids!.data!;
      const firstSep = ids.indexOf(102);
      const from = firstSep + 1;
      const to = ids.length - 1;
      if (bestSpan(a.s, a.e, from, to) === bestSpan(b.s, b.e, from, to)) agree++;
      for (const k of ['s', 'e'] as const) {
        for (let i = 0; i < a[k].length; i++) {
          maxDiff = Math.max(maxDiff, Math.abs(a[k][i]! - b[k][i]!));
          maxDiffInt8 = Math.max(maxDiffInt8, Math.abs(q[k][i]! - b[k][i]!));
          range = Math.max(range, Math.abs(a[k][i]!));
        }
      }
    }
    const ms = got.reduce((sum, r) => sum + r.ms, 0) / got.length;
    lines.push(
      `| ${c.name} | ${agree}/${windows.length} | ${fmt(maxDiff)} | ${fmt(maxDiffInt8)} | ${fmt(range)} | ${ms.toFixed(0)}${c.side === host ? '' : ' (emulated)'} |`,
    );
  }
  console.log(lines.join('\n'));
}

async function main(): Promise<void> {
  const { values: opts, positionals } = parseArgs({
    options: { windows: { type: 'string' }, 'full-windows': { type: 'string' } },
    allowPositionals: true,
    strict: true,
  });
  const parts = positionals.length ? positionals : ['answers', 'nodes', 'kernels', 'full'];
  try {
    if (parts.includes('answers')) await answers();
    if (parts.includes('nodes')) await nodes(Number(opts.windows ?? 24));
    if (parts.includes('kernels')) await kernels(Number(opts.windows ?? 24));
    if (parts.includes('full')) await full(Number(opts['full-windows'] ?? 8));
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.stack : error);
  process.exit(1);
});
