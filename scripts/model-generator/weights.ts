/**
 * Architecture sizes and seeded random weights for DistilBERT/BERT-for-QA models. The same
 * `TransformerWeights` object feeds the ONNX graph builder and the independent TypeScript forward
 * pass, so a test can compare the two.
 *
 * Initialisation keeps activations at unit scale through every layer (linear weights with
 * std 1/√fan_in) so that attention is not uniform and logits are of order 1: the graphs then
 * exercise softmax, masking and int8 quantisation the way a trained model would, and numeric
 * comparisons in tests are meaningful.
 */
import { uniformFill } from './random';

export type ModelSize = 'tiny' | 'full';

export interface TransformerConfig {
  /** Hidden size (DistilBERT `dim`, BERT `hidden_size`). */
  dim: number;
  nLayers: number;
  nHeads: number;
  /** Feed-forward inner size (DistilBERT `hidden_dim`, BERT `intermediate_size`). */
  hiddenDim: number;
  vocabSize: number;
  maxPositions: number;
  /** 0 for DistilBERT (no token_type_ids input); 2 for BERT. */
  typeVocabSize: number;
  layerNormEps: number;
}

/** bert-base-uncased vocabulary size: the tokenizer fixture's ids must all be valid. */
export const VOCAB_SIZE = 30522;
export const MAX_POSITIONS = 512;

export const SIZES: Record<ModelSize, Pick<TransformerConfig, 'dim' | 'nLayers' | 'nHeads' | 'hiddenDim'>> = {
  // Small enough to generate and run in milliseconds; two heads and two layers still test
  // head splitting and layer stacking.
  tiny: { dim: 32, nLayers: 2, nHeads: 2, hiddenDim: 64 },
  // distilbert-base-uncased-distilled-squad: the real model's cost.
  full: { dim: 768, nLayers: 6, nHeads: 12, hiddenDim: 3072 },
};

export function configFor(size: ModelSize, withTokenTypes: boolean): TransformerConfig {
  return {
    ...SIZES[size],
    vocabSize: VOCAB_SIZE,
    maxPositions: MAX_POSITIONS,
    typeVocabSize: withTokenTypes ? 2 : 0,
    layerNormEps: 1e-12,
  };
}

/** y = x·W + b with W stored [inDim, outDim] row-major (the layout ONNX MatMul takes). */
export interface Linear {
  name: string;
  inDim: number;
  outDim: number;
  weight: Float32Array;
  bias: Float32Array;
}

export interface LayerNormWeights {
  name: string;
  gamma: Float32Array;
  beta: Float32Array;
}

export interface Embedding {
  name: string;
  rows: number;
  dim: number;
  table: Float32Array;
}

export interface LayerWeights {
  q: Linear;
  k: Linear;
  v: Linear;
  out: Linear;
  attnLayerNorm: LayerNormWeights;
  ffn1: Linear;
  ffn2: Linear;
  outputLayerNorm: LayerNormWeights;
}

export interface TransformerWeights {
  config: TransformerConfig;
  word: Embedding;
  position: Embedding;
  tokenType: Embedding | null;
  embeddingLayerNorm: LayerNormWeights;
  layers: LayerWeights[];
  /** qa_outputs: dim → 2 (start, end). */
  qa: Linear;
}

function linear(seed: number, name: string, inDim: number, outDim: number): Linear {
  return {
    name,
    inDim,
    outDim,
    weight: uniformFill(new Float32Array(inDim * outDim), seed, `${name}.weight`, 1 / Math.sqrt(inDim)),
    bias: uniformFill(new Float32Array(outDim), seed, `${name}.bias`, 0.02),
  };
}

function layerNorm(seed: number, name: string, dim: number): LayerNormWeights {
  return {
    name,
    gamma: uniformFill(new Float32Array(dim), seed, `${name}.weight`, 0.1, 1),
    beta: uniformFill(new Float32Array(dim), seed, `${name}.bias`, 0.05),
  };
}

function embedding(seed: number, name: string, rows: number, dim: number): Embedding {
  return { name, rows, dim, table: uniformFill(new Float32Array(rows * dim), seed, `${name}.weight`, 0.02) };
}

/**
 * Weights named as in Hugging Face's checkpoints (`distilbert.transformer.layer.0.attention.q_lin`
 * or `bert.encoder.layer.0.attention.self.query`); names seed the streams and name the initializers.
 */
export function makeWeights(config: TransformerConfig, seed: number): TransformerWeights {
  const bert = config.typeVocabSize > 0;
  const d = config.dim;
  const root = bert ? 'bert' : 'distilbert';
  const layers: LayerWeights[] = [];
  for (let l = 0; l < config.nLayers; l++) {
    if (bert) {
      const p = `bert.encoder.layer.${l}`;
      layers.push({
        q: linear(seed, `${p}.attention.self.query`, d, d),
        k: linear(seed, `${p}.attention.self.key`, d, d),
        v: linear(seed, `${p}.attention.self.value`, d, d),
        out: linear(seed, `${p}.attention.output.dense`, d, d),
        attnLayerNorm: layerNorm(seed, `${p}.attention.output.LayerNorm`, d),
        ffn1: linear(seed, `${p}.intermediate.dense`, d, config.hiddenDim),
        ffn2: linear(seed, `${p}.output.dense`, config.hiddenDim, d),
        outputLayerNorm: layerNorm(seed, `${p}.output.LayerNorm`, d),
      });
    } else {
      const p = `distilbert.transformer.layer.${l}`;
      layers.push({
        q: linear(seed, `${p}.attention.q_lin`, d, d),
        k: linear(seed, `${p}.attention.k_lin`, d, d),
        v: linear(seed, `${p}.attention.v_lin`, d, d),
        out: linear(seed, `${p}.attention.out_lin`, d, d),
        attnLayerNorm: layerNorm(seed, `${p}.sa_layer_norm`, d),
        ffn1: linear(seed, `${p}.ffn.lin1`, d, config.hiddenDim),
        ffn2: linear(seed, `${p}.ffn.lin2`, config.hiddenDim, d),
        outputLayerNorm: layerNorm(seed, `${p}.output_layer_norm`, d),
      });
    }
  }
  return {
    config,
    word: embedding(seed, `${root}.embeddings.word_embeddings`, config.vocabSize, d),
    position: embedding(seed, `${root}.embeddings.position_embeddings`, config.maxPositions, d),
    tokenType: bert ? embedding(seed, 'bert.embeddings.token_type_embeddings', config.typeVocabSize, d) : null,
    embeddingLayerNorm: layerNorm(seed, `${root}.embeddings.LayerNorm`, d),
    layers,
    qa: linear(seed, 'qa_outputs', d, 2),
  };
}
