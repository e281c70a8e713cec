/**
 * Recognition by name (src/model/model-family.ts): the families' fixtures and bert-base-uncased
 * (tokenizer.json files as the Hub ships them, or converted as transformers does) are recognised as
 * what their Hub repositories are; exports the engine cannot serve are refused with what was found
 * and what was expected.
 */
import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { UnsupportedModelError } from '../../src/model/errors';
import {
  checkQuestionAnsweringGraph,
  maxSequencePositions,
  recognizeConfig,
  recognizeTokenizer,
} from '../../src/model/model-family';
import { familyModelDir } from '../helpers/families';

const FIXTURES = path.resolve(__dirname, '..', 'fixtures');
const json = (file: string) => JSON.parse(readFileSync(file, 'utf8'));
const tokenizerOf = (family: 'roberta' | 'xlm-roberta' | 'deberta-v3') =>
  json(path.join(familyModelDir(family), 'tokenizer.json'));
const configOf = (family: 'roberta' | 'xlm-roberta' | 'deberta-v3') =>
  json(path.join(familyModelDir(family), 'config.json'));

function refusal(fn: () => unknown): UnsupportedModelError {
  try {
    fn();
  } catch (error) {
    if (error instanceof UnsupportedModelError) return error;
    throw error;
  }
  throw new Error('not refused');
}

describe('recognised', () => {
  test.each([
    [
      'roberta',
      'roberta',
      'RobertaForQuestionAnswering',
      'BPE',
      'RobertaProcessing',
      '<s> question </s> </s> context </s>',
    ],
    [
      'xlm-roberta',
      'xlm-roberta',
      'XLMRobertaForQuestionAnswering',
      'Unigram',
      'TemplateProcessing',
      '<s> question </s> </s> context </s>',
    ],
    [
      'deberta-v3',
      'deberta-v2',
      'DebertaV2ForQuestionAnswering',
      'Unigram',
      'TemplateProcessing',
      '[CLS] question [SEP] context:1 [SEP]:1',
    ],
  ] as const)(
    '%s: model_type %s, %s; %s with %s: %s',
    (family, modelType, architecture, model, postProcessor, pair) => {
      expect(recognizeConfig(configOf(family))).toEqual({ modelType, architecture });
      expect(recognizeTokenizer(tokenizerOf(family))).toEqual({ model, postProcessor, pair });
    },
  );

  test('bert-base-uncased: WordPiece, [CLS] A [SEP] B [SEP] with type ids 1 for the context', () => {
    expect(recognizeTokenizer(json(path.join(FIXTURES, 'bert-base-uncased', 'tokenizer.json')))).toEqual({
      model: 'WordPiece',
      postProcessor: 'TemplateProcessing',
      pair: '[CLS] question [SEP] context:1 [SEP]:1',
    });
  });

  test('BertProcessing, and a pair processor inside a Sequence (ByteLevel then RobertaProcessing)', () => {
    expect(
      recognizeTokenizer({
        model: { type: 'WordPiece' },
        post_processor: { type: 'BertProcessing', sep: ['[SEP]', 102], cls: ['[CLS]', 101] },
      }).pair,
    ).toBe('[CLS] question [SEP] context:1 [SEP]:1');
    const sequence = {
      type: 'Sequence',
      processors: [
        { type: 'ByteLevel', trim_offsets: true },
        { type: 'RobertaProcessing', sep: ['</s>', 2], cls: ['<s>', 0] },
      ],
    };
    expect(recognizeTokenizer({ model: { type: 'BPE' }, post_processor: sequence })).toEqual({
      model: 'BPE',
      postProcessor: 'RobertaProcessing',
      pair: '<s> question </s> </s> context </s>',
    });
  });

  test("an encoder-decoder with a QA head (BART's extractive QA) is no generative model", () => {
    expect(
      recognizeConfig({ model_type: 'bart', architectures: ['BartForQuestionAnswering'], is_encoder_decoder: true }),
    ).toEqual({ modelType: 'bart', architecture: 'BartForQuestionAnswering' });
  });

  test('a config without model_type or architectures is no reason to refuse (the graph decides)', () => {
    expect(recognizeConfig(undefined)).toEqual({ modelType: null, architecture: null });
    expect(recognizeConfig({ architectures: ['BertForMaskedLM'] })).toEqual({
      modelType: null,
      architecture: 'BertForMaskedLM',
    });
  });
});

describe('refused, naming what was found and what was expected', () => {
  test('a generative model: GPT-2 (LMHeadModel), Llama (ForCausalLM), T5 (encoder-decoder)', () => {
    const gpt2 = refusal(() => recognizeConfig({ model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] }));
    expect(gpt2.object).toBe('config.json');
    expect(gpt2.message).toBe(
      'Unsupported model: config.json has architectures GPT2LMHeadModel (a generative model, model_type gpt2); expected an extractive question-answering export (…ForQuestionAnswering, ONNX outputs start_logits and end_logits)',
    );
    expect(refusal(() => recognizeConfig({ model_type: 'llama', architectures: ['LlamaForCausalLM'] })).found).toMatch(
      /LlamaForCausalLM \(a generative model/,
    );
    expect(refusal(() => recognizeConfig({ model_type: 't5', is_encoder_decoder: true })).found).toBe(
      'is_encoder_decoder true (a generative model, model_type t5)',
    );
  });

  test("GPT-2's tokenizer.json: a ByteLevel post-processor puts no special tokens around a pair", () => {
    const gpt2 = {
      model: { type: 'BPE' },
      post_processor: { type: 'ByteLevel', add_prefix_space: false, trim_offsets: true, use_regex: true },
    };
    const error = refusal(() => recognizeTokenizer(gpt2));
    expect(error.object).toBe('tokenizer.json');
    expect(error.found).toBe('post_processor ByteLevel (no special tokens around a question/context pair)');
    expect(error.expected).toMatch(/TemplateProcessing, BertProcessing, RobertaProcessing/);
    expect(refusal(() => recognizeTokenizer({ model: { type: 'BPE' }, post_processor: null })).found).toMatch(
      /^no post_processor/,
    );
  });

  test("templates it cannot assemble: XLNet's (classifier last), context first, one sequence", () => {
    const special = (id: string, type_id = 0) => ({ SpecialToken: { id, type_id } });
    const seq = (id: string, type_id = 0) => ({ Sequence: { id, type_id } });
    const template = (pair: object[]) => ({
      model: { type: 'Unigram' },
      post_processor: { type: 'TemplateProcessing', pair, special_tokens: {} },
    });
    const xlnet = refusal(() =>
      recognizeTokenizer(template([seq('A'), special('<sep>'), seq('B', 1), special('<sep>', 1), special('<cls>', 2)])),
    );
    expect(xlnet.found).toBe('the pair template question <sep> context:1 <sep>:1 <cls>:2');
    expect(xlnet.expected).toMatch(/classifier token first, then the question \(\$A\), then the context \(\$B\)/);
    expect(
      refusal(() => recognizeTokenizer(template([special('[CLS]'), seq('B'), special('[SEP]'), seq('A')]))).found,
    ).toBe('the pair template [CLS] context [SEP] question');
    expect(refusal(() => recognizeTokenizer(template([special('[CLS]'), seq('A'), special('[SEP]')]))).found).toBe(
      'the pair template [CLS] question [SEP]',
    );
  });

  test('a tokenizer model the engine does not know', () => {
    expect(
      refusal(() => recognizeTokenizer({ model: { type: 'CharLevel' }, post_processor: { type: 'BertProcessing' } }))
        .found,
    ).toBe('model CharLevel');
  });

  test('an ONNX graph without the QA logits (a generative export), or with an input the engine cannot feed', () => {
    const generative = refusal(() => checkQuestionAnsweringGraph(['input_ids', 'attention_mask'], ['logits']));
    expect(generative.object).toBe('the ONNX graph');
    expect(generative.found).toBe('outputs logits');
    expect(generative.expected).toMatch(/^outputs start_logits and end_logits/);
    expect(
      refusal(() =>
        checkQuestionAnsweringGraph(['input_ids', 'attention_mask', 'position_ids'], ['start_logits', 'end_logits']),
      ).found,
    ).toBe('inputs input_ids, attention_mask, position_ids');
    expect(() =>
      checkQuestionAnsweringGraph(['input_ids', 'attention_mask', 'token_type_ids'], ['start_logits', 'end_logits']),
    ).not.toThrow();
  });
});

describe('the longest sequence the position embeddings accept', () => {
  test('RoBERTa and XLM-R start positions after the padding index: 514 positions hold 512 tokens', () => {
    expect(maxSequencePositions(configOf('roberta'))).toBe(512);
    expect(maxSequencePositions(configOf('xlm-roberta'))).toBe(512);
    expect(maxSequencePositions(configOf('deberta-v3'))).toBe(512);
    expect(maxSequencePositions({ model_type: 'distilbert', max_position_embeddings: 512 })).toBe(512);
    expect(maxSequencePositions({ model_type: 'bert' })).toBeUndefined();
  });
});
