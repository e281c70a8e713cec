/** How much work a DistilBERT window is, and what a nominal reading of this CPU says it could do. */
import { readFileSync } from 'node:fs';

/** Width, feed-forward width, layers and heads from a Hugging Face DistilBERT (or BERT) config.json. */
export function distilbertDims(config: Record<string, unknown>): {
  d: number;
  ff: number;
  layers: number;
  heads: number;
} {
  const d = Number(config.dim ?? config.hidden_size ?? 768);
  return {
    d,
    ff: Number(config.hidden_dim ?? config.intermediate_size ?? 4 * d),
    layers: Number(config.n_layers ?? config.num_hidden_layers ?? 6),
    heads: Number(config.n_heads ?? config.num_attention_heads ?? 12),
  };
}

/**
 * Multiply-accumulates of one DistilBERT forward pass of `n` tokens: per layer the Q, K, V and output
 * projections (4·n·d²), the feed-forward pair (2·n·d·ff) and the attention products QKᵀ and AV
 * (2·n²·d), plus the QA head (2·n·d). All but the attention products are int8 in both graphs.
 */
export function distilbertMacs(config: Record<string, unknown>, n: number): { total: number; int8: number } {
  const { d, ff, layers } = distilbertDims(config);
  const int8 = layers * (4 * n * d * d + 2 * n * d * ff) + 2 * n * d;
  return { total: int8 + layers * 2 * n * n * d, int8 };
}

export interface Peak {
  macsPerCycle: number;
  ghz: number;
  why: string;
}

/**
 * A nominal int8 multiply-accumulate peak per core, from /proc/cpuinfo: the widest int8 dot-product
 * instruction its flags offer times how many retire per cycle, times the clock it reports. Only a
 * side note: in a VM `cpu MHz` is a fixed figure from the hypervisor, not the clock the core runs at, and
 * the per-cycle figure is the vendor's, so the bench reads its rates against measured GEMMs
 * (gemm-ceiling.ts) instead.
 */
export function nominalInt8Peak(cpuinfo = readFileSync('/proc/cpuinfo', 'utf8')): Peak {
  const field = (name: string) => new RegExp(`^${name}\\s*:\\s*(.*)$`, 'm').exec(cpuinfo)?.[1]?.trim() ?? '';
  const flags = new Set(field('flags').split(/\s+/));
  const ghz = Number(field('cpu MHz')) / 1000;
  const amdFamily = field('vendor_id') === 'AuthenticAMD' ? Number(field('cpu family')) : 0;
  let macsPerCycle: number;
  let why: string;
  if (flags.has('avx512_vnni') && amdFamily >= 26) {
    // Zen 5: a full 512-bit datapath, two VPDPBUSD zmm per cycle, 64 u8×s8 products each.
    macsPerCycle = 128;
    why = 'AVX-512 VNNI on AMD family 26 (Zen 5): 2 × 512-bit VPDPBUSD per cycle = 128 int8 MAC/cycle';
  } else if (flags.has('avx512_vnni') || flags.has('avx_vnni')) {
    macsPerCycle = 64;
    why = 'VNNI: one 512-bit (or two 256-bit) VPDPBUSD per cycle = 64 int8 MAC/cycle';
  } else if (flags.has('avx2')) {
    macsPerCycle = 32;
    why = 'AVX2 without VNNI: VPMADDUBSW + VPMADDWD on two 256-bit ports ≈ 32 int8 MAC/cycle';
  } else {
    macsPerCycle = 16;
    why = 'SSE4/NEON-class: ≈ 16 int8 MAC/cycle';
  }
  return { macsPerCycle, ghz, why: `${why}, × ${ghz.toFixed(2)} GHz (/proc/cpuinfo \`cpu MHz\`) per thread` };
}
