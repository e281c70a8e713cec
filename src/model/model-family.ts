/**
 * What kind of extractive-QA model this is, recognised from its files before anything runs:
 * config.json (`model_type`, `architectures`) and the parsed tokenizer.json (its model and the
 * post-processor that puts the special tokens around a pair). An export the engine cannot serve is
 * refused here, with an UnsupportedModelError naming what was found and what was expected, instead
 * of failing later on a window or answering nonsense.
 *
 * Pure: the engine hands over what it has already read (the tokenizer JSON is parsed once).
 */
import { UnsupportedModelError } from './errors';
import { OPTIONAL_INPUTS, OUTPUTS, REQUIRED_INPUTS } from './onnx-contract';
import { PAIR_PROCESSORS, pairProcessorOf } from './special-tokens';
import type { ConfigFamily, TokenizerFamily } from './types';

// tokenizer.json and config.json as parsed: read defensively, field by field.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Json = Record<string, any>;

const TOKENIZER_MODELS = ['BPE', 'Unigram', 'WordPiece', 'WordLevel'];
const EXTRACTIVE =
  'an extractive question-answering export (…ForQuestionAnswering, ONNX outputs start_logits and end_logits)';
/** Heads that generate text: a causal or sequence-to-sequence language model is no extractive QA model. */
const GENERATIVE_ARCHITECTURE = /(ForCausalLM|LMHeadModel|ForConditionalGeneration|ForSeq2SeqLM)$/;
/**
 * Model types whose position ids start after the padding index (transformers'
 * `create_position_ids_from_input_ids`): their longest sequence is max_position_embeddings −
 * (pad_token_id + 1), e.g. 514 positions for 512 tokens.
 */
const OFFSET_POSITIONS = new Set(['roberta', 'xlm-roberta', 'xlm-roberta-xl', 'camembert', 'data2vec-text']);

const text = (value: unknown): string | null => (typeof value === 'string' && value !== '' ? value : null);

/**
 * Reads `model_type` and `architectures`; refuses a generative model. A `…ForQuestionAnswering`
 * architecture is extractive whatever the rest says (BART's has an encoder-decoder config).
 */
export function recognizeConfig(config: Record<string, unknown> | undefined): ConfigFamily {
  const modelType = text(config?.model_type);
  const architectures = Array.isArray(config?.architectures)
    ? config.architectures.filter((a): a is string => typeof a === 'string')
    : [];
  const extractive = architectures.some((a) => a.endsWith('ForQuestionAnswering'));
  const generative = architectures.find((a) => GENERATIVE_ARCHITECTURE.test(a));
  if (!extractive && (generative || config?.is_decoder === true || config?.is_encoder_decoder === true)) {
    const found = generative
      ? `architectures ${architectures.join(', ')}`
      : config?.is_decoder === true
        ? 'is_decoder true'
        : 'is_encoder_decoder true';
    throw new UnsupportedModelError(
      'config.json',
      `${found} (a generative model${modelType ? `, model_type ${modelType}` : ''})`,
      EXTRACTIVE,
    );
  }
  return { modelType, architecture: architectures[0] ?? null };
}

/**
 * The longest sequence the model's position embeddings accept: config.json's
 * max_position_embeddings, less the padding offset of RoBERTa-style position ids; undefined when
 * config.json does not say.
 */
export function maxSequencePositions(config: Record<string, unknown> | undefined): number | undefined {
  const positions = config?.max_position_embeddings;
  if (typeof positions !== 'number' || !Number.isInteger(positions) || positions <= 0) return undefined;
  const modelType = text(config?.model_type);
  const pad = config?.pad_token_id;
  if (
    modelType &&
    OFFSET_POSITIONS.has(modelType) &&
    typeof pad === 'number' &&
    Number.isInteger(pad) &&
    pad >= 0 &&
    positions > pad + 1
  ) {
    return positions - (pad + 1);
  }
  return positions;
}

function describeProcessor(processor: Json | null): string {
  if (!processor) return 'no post_processor';
  if (processor.type !== 'Sequence') return `post_processor ${String(processor.type)}`;
  return `post_processor Sequence of ${(processor.processors as Json[]).map((p) => String(p?.type)).join(', ')}`;
}

/** A TemplateProcessing pair as text: special tokens by name, $A as `question`, $B as `context`, type ids ≠ 0 as `:n`. */
function templateText(pair: Json[]): string {
  return pair
    .map((piece) => {
      const [name, typeId] = piece.Sequence
        ? [
            piece.Sequence.id === 'A' ? 'question' : piece.Sequence.id === 'B' ? 'context' : `$${piece.Sequence.id}`,
            piece.Sequence.type_id,
          ]
        : [String(piece.SpecialToken?.id), piece.SpecialToken?.type_id];
      return typeId ? `${name}:${typeId}` : name;
    })
    .join(' ');
}

/**
 * A template the engine assembles as the reference does: a classifier token first (its position
 * scores "no answer"), then the question ($A), then the context ($B), special tokens between and
 * after. XLNet's (classifier last), a context-first template or one without both sequences is not.
 */
function checkTemplate(pair: Json[], rendered: string): void {
  const kinds = pair.map((p) => (p.Sequence ? `$${p.Sequence.id}` : p.SpecialToken ? 'special' : '?'));
  const a = kinds.indexOf('$A');
  const b = kinds.indexOf('$B');
  const ok =
    a > 0 &&
    b > a &&
    kinds.filter((k) => k !== 'special').length === 2 &&
    kinds.slice(0, a).every((k) => k === 'special');
  if (!ok) {
    throw new UnsupportedModelError(
      'tokenizer.json',
      `the pair template ${rendered}`,
      'a template with a classifier token first, then the question ($A), then the context ($B), e.g. [CLS] $A [SEP] $B [SEP] or <s> $A </s> </s> $B </s>',
    );
  }
}

/** Reads the tokenizer's model and pair layout from a parsed tokenizer.json; refuses what the engine cannot assemble. */
export function recognizeTokenizer(tokenizerJson: Json): TokenizerFamily {
  const model =
    text(tokenizerJson?.model?.type) ?? (tokenizerJson?.model?.vocab && tokenizerJson?.model?.merges ? 'BPE' : null);
  if (!model || !TOKENIZER_MODELS.includes(model)) {
    throw new UnsupportedModelError(
      'tokenizer.json',
      `model ${model ?? 'without a type'}`,
      `a tokenizer model among ${TOKENIZER_MODELS.join(', ')}`,
    );
  }
  const processor = pairProcessorOf(tokenizerJson);
  if (!processor) {
    throw new UnsupportedModelError(
      'tokenizer.json',
      `${describeProcessor(tokenizerJson.post_processor ?? null)} (no special tokens around a question/context pair)`,
      `a post_processor among ${PAIR_PROCESSORS.join(', ')}, as question-answering exports have`,
    );
  }
  let pair: string;
  if (processor.type === 'TemplateProcessing') {
    if (!Array.isArray(processor.pair))
      throw new UnsupportedModelError(
        'tokenizer.json',
        'a TemplateProcessing without a pair template',
        'a pair template',
      );
    pair = templateText(processor.pair);
    checkTemplate(processor.pair, pair);
  } else if (processor.type === 'RobertaProcessing') {
    const [cls, sep] = [processor.cls?.[0], processor.sep?.[0]];
    pair = `${cls} question ${sep} ${sep} context ${sep}`;
  } else {
    const [cls, sep] = [processor.cls?.[0], processor.sep?.[0]];
    pair = `${cls} question ${sep} context:1 ${sep}:1`;
  }
  return { model, postProcessor: processor.type, pair };
}

/** Refuses an ONNX graph without the inputs the engine feeds or the two logits it reads. */
export function checkQuestionAnsweringGraph(inputNames: readonly string[], outputNames: readonly string[]): void {
  const missingOutputs = OUTPUTS.filter((n) => !outputNames.includes(n));
  if (missingOutputs.length > 0) {
    throw new UnsupportedModelError(
      'the ONNX graph',
      `outputs ${outputNames.join(', ') || '(none)'}`,
      `outputs start_logits and end_logits: ${EXTRACTIVE}`,
    );
  }
  const feedable: readonly string[] = [...REQUIRED_INPUTS, ...OPTIONAL_INPUTS];
  const missingInputs = REQUIRED_INPUTS.filter((n) => !inputNames.includes(n));
  const unknownInputs = inputNames.filter((n) => !feedable.includes(n));
  if (missingInputs.length > 0 || unknownInputs.length > 0) {
    throw new UnsupportedModelError(
      'the ONNX graph',
      `inputs ${inputNames.join(', ') || '(none)'}`,
      'inputs input_ids and attention_mask, and token_type_ids if any',
    );
  }
}
