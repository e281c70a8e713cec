/**
 * The families served from each Hub layout, like the default model: pulled from a Hub repository
 * (the local stand-in, test/helpers/hub-server.ts) with `npm run model -- pull`, pushed to S3
 * (s3rver) with `npm run model -- push`, and loaded from there. Xenova/Transformers.js repositories
 * keep the ONNX files under `onnx/`; `optimum-cli export onnx` writes `model.onnx` at the root.
 * Each loaded model is recognised by name (`model { family tokenizer }`) and answers as the reference
 * pipeline; a model of a kind the engine does not serve fails at load with what it found and what
 * it expected.
 */
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import { cpSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { main } from '../../scripts/model-cli';
import { UnsupportedModelError } from '../../src/model/errors';
import { loadModel, type LoadModelOptions } from '../../src/model/loading/load-model';
import { ModelProvider } from '../../src/model/loading/provider';
import { createApi } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { StaticProvider } from '../api/helpers/engines';
import { gql, lambdaTransport } from '../hardening/helpers/transports';
import {
  FAMILIES,
  FAMILIES_DIR,
  familyCases,
  familyExpected,
  familyModelDir,
  type FamilyFixture,
} from '../helpers/families';
import { startHubServer, type HubServer } from '../helpers/hub-server';
import { ANSWER_MANY_QUERY, answerInput, compareAnswers } from '../helpers/reference-qa';
import { startS3, type TestS3 } from '../helpers/s3rver';

type Layout = 'xenova' | 'optimum';
const saved = { ...process.env };
let s3: TestS3;
let hub: HubServer;
let work: string;

/** The fixture's files as a repository of `layout` holds them: ONNX files under onnx/, or at the root. */
function repoFiles(family: FamilyFixture['name'], layout: Layout): Record<string, Buffer> {
  const dir = familyModelDir(family);
  const files: Record<string, Buffer> = {};
  for (const entry of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const rel = path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join('/');
    files[layout === 'optimum' ? rel.replace(/^onnx\//, '') : rel] = readFileSync(path.join(dir, rel));
  }
  return files;
}

const REPOS: Array<{ family: FamilyFixture; layout: Layout; repo: string }> = FAMILIES.flatMap((family) => [
  { family, layout: 'xenova' as const, repo: `Xenova/${family.name}-tiny-qa` },
  { family, layout: 'optimum' as const, repo: `optimum/${family.name}-tiny-qa` },
]);

const READ: LoadModelOptions['read'] = {
  idleTimeoutMs: 10_000,
  totalTimeoutMs: 60_000,
  maxInMemoryBytes: 1 << 30,
  spillDir: os.tmpdir(),
};
const MODEL_QUERY =
  '{ model { name quantized inputNames maxSequenceLength family { modelType architecture } tokenizer { model postProcessor pair } } }';
const EXPECTED_TOKENIZER: Record<
  FamilyFixture['name'],
  { model: string; postProcessor: string; pair: string; architecture: string }
> = {
  roberta: {
    model: 'BPE',
    postProcessor: 'RobertaProcessing',
    pair: '<s> question </s> </s> context </s>',
    architecture: 'RobertaForQuestionAnswering',
  },
  'xlm-roberta': {
    model: 'Unigram',
    postProcessor: 'TemplateProcessing',
    pair: '<s> question </s> </s> context </s>',
    architecture: 'XLMRobertaForQuestionAnswering',
  },
  'deberta-v3': {
    model: 'Unigram',
    postProcessor: 'TemplateProcessing',
    pair: '[CLS] question [SEP] context:1 [SEP]:1',
    architecture: 'DebertaV2ForQuestionAnswering',
  },
};

beforeAll(async () => {
  s3 = await startS3(['models']);
  const fp32Only = Object.fromEntries(
    Object.entries(repoFiles('roberta', 'optimum')).filter(([name]) => name !== 'model_quantized.onnx'),
  );
  hub = await startHubServer([
    ...REPOS.map(({ family, layout, repo }) => ({
      repo,
      revision: 'main',
      commit: `${layout}-${family.name}`,
      files: repoFiles(family.name, layout),
    })),
    // What `optimum-cli export onnx` alone publishes: model.onnx at the root, no int8 file.
    { repo: 'optimum/roberta-fp32-only', revision: 'main', commit: 'fp32-only', files: fp32Only },
  ]);
  work = mkdtempSync(path.join(os.tmpdir(), 'families-layouts-'));
  Object.assign(process.env, s3.env, { HF_ENDPOINT: hub.endpoint });
});

afterAll(async () => {
  process.env = saved;
  await hub?.close();
  await s3?.close();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** `npm run model -- …` through its entry point, its output kept out of the test's. */
async function modelCli(args: string[]): Promise<number> {
  const out = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  const err = jest.spyOn(process.stderr, 'write').mockImplementation(() => true);
  try {
    return await main(args);
  } finally {
    out.mockRestore();
    err.mockRestore();
  }
}

describe.each(REPOS)('$repo ($layout layout)', ({ family, layout, repo }) => {
  test('pulled, pushed and loaded from S3, int8 and fp32: recognised by name, and the cases answered as the reference pipeline', async () => {
    const dir = path.join(work, repo);
    expect(await modelCli(['pull', repo, '--all', dir])).toBe(0);
    const onnxDir = layout === 'optimum' ? '' : 'onnx/';
    expect(
      readdirSync(path.join(dir, onnxDir || '.'))
        .filter((f) => f.endsWith('.onnx'))
        .sort(),
    ).toEqual(['model.onnx', 'model_quantized.onnx']);
    const uri = `s3://models/${repo}/`;
    // --all: the one version below serves both precisions (a default push holds the one the loader serves).
    expect(await modelCli(['push', dir, uri, '--all'])).toBe(0);

    // A sample that fits one request's work budget (every case runs in test/integration/families.test.ts).
    const cases = familyCases().filter((c, i) => !c.id.startsWith('pub-long') && i % 3 === 0);
    for (const [precision, preferQuantized] of [
      ['int8', true],
      ['fp32', false],
    ] as const) {
      const { engine, info } = await loadModel(uri, { s3: s3.client, preferQuantized, read: READ, threads: 1 });
      try {
        expect(info).toMatchObject({ quantized: preferQuantized, version: expect.any(String) });
        const api = createApi({
          config: apiConfig({ production: false, ide: false }),
          provider: new StaticProvider(engine, info),
          ideAssetsDir: null,
          logSink: () => undefined,
        });
        const transport = lambdaTransport(api);
        const { architecture, ...tokenizer } = EXPECTED_TOKENIZER[family.name];
        const model = (await transport(gql(MODEL_QUERY))).json.data.model;
        expect(model).toEqual({
          name: `fixtures/${family.name}-tiny-qa`,
          quantized: preferQuantized,
          inputNames:
            family.name === 'deberta-v3'
              ? ['input_ids', 'attention_mask', 'token_type_ids']
              : ['input_ids', 'attention_mask'],
          maxSequenceLength: 384,
          family: { modelType: family.modelType, architecture },
          tokenizer,
        });
        const expected = familyExpected(family.name, precision);
        const res = await transport(gql(ANSWER_MANY_QUERY, { inputs: cases.map(answerInput) }));
        expect(res.json.errors).toBeUndefined();
        const mismatches = cases
          .map((c, i) => {
            const r = res.json.data.answerMany[i];
            const problem = r.error
              ? r.error.code
              : compareAnswers(expected.get(c.id)!.answers, r.answers, expected.get(c.id)!.flags);
            return problem && `${c.id}: ${problem}`;
          })
          .filter(Boolean);
        expect(mismatches).toEqual([]);
        await api.server.stop();
      } finally {
        await (engine as { dispose?: () => Promise<void> }).dispose?.();
      }
    }
  }, 120_000);
});

test('an Optimum repository without an int8 file: the default pull names both places it looked, --fp32 pulls the root model.onnx', async () => {
  await expect(modelCli(['pull', 'optimum/roberta-fp32-only', path.join(work, 'fp32-only-int8')])).rejects.toThrow(
    'onnx/model_quantized.onnx or model_quantized.onnx not found in optimum/roberta-fp32-only@main',
  );
  const dir = path.join(work, 'fp32-only');
  expect(await modelCli(['pull', 'optimum/roberta-fp32-only', '--fp32', dir])).toBe(0);
  expect(readdirSync(dir).filter((f) => f.endsWith('.onnx'))).toEqual(['model.onnx']);
  const { info, engine } = await loadModel(dir, { preferQuantized: true, read: READ, threads: 1 });
  expect(info).toMatchObject({ quantized: false, family: { modelType: 'roberta' } });
  await (engine as { dispose?: () => Promise<void> }).dispose?.();
});

describe('a model of a kind the engine does not serve fails at load, saying what it found and what it expected', () => {
  /** A copy of the RoBERTa fixture with `change` applied. */
  function variant(name: string, change: (dir: string) => void): string {
    const dir = path.join(work, 'unsupported', name);
    cpSync(familyModelDir('roberta'), dir, { recursive: true });
    change(dir);
    return dir;
  }
  const editJson = (file: string, edit: (json: Record<string, any>) => void) => {
    const json = JSON.parse(readFileSync(file, 'utf8'));
    edit(json);
    writeFileSync(file, JSON.stringify(json));
  };
  async function loadError(dir: string): Promise<UnsupportedModelError> {
    const error = await loadModel(dir, { preferQuantized: true, read: READ, threads: 1 }).then(
      () => new Error('loaded'),
      (e: unknown) => e,
    );
    if (!(error instanceof UnsupportedModelError)) throw error;
    expect(error.reason).toBe('UNSUPPORTED_MODEL');
    return error;
  }

  test('a generative model (config.json: GPT2LMHeadModel)', async () => {
    const dir = variant('generative', (d) =>
      editJson(path.join(d, 'config.json'), (c) =>
        Object.assign(c, { model_type: 'gpt2', architectures: ['GPT2LMHeadModel'] }),
      ),
    );
    expect((await loadError(dir)).message).toBe(
      'Unsupported model: config.json has architectures GPT2LMHeadModel (a generative model, model_type gpt2); expected an extractive question-answering export (…ForQuestionAnswering, ONNX outputs start_logits and end_logits)',
    );
  });

  test('an export without QA outputs (a text-generation graph: `logits`), whatever config.json claims', async () => {
    const dir = variant('no-qa-outputs', (d) => {
      rmSync(path.join(d, 'onnx'), { recursive: true });
      cpSync(path.join(FAMILIES_DIR, 'not-qa', 'model.onnx'), path.join(d, 'model.onnx'));
    });
    const error = await loadError(dir);
    expect(error.object).toBe('the ONNX graph');
    expect(error.found).toBe('outputs logits');
    expect(error.expected).toMatch(/^outputs start_logits and end_logits/);
  });

  test("a tokenizer.json with GPT-2's post-processor (ByteLevel: no special tokens around a pair)", async () => {
    const dir = variant('gpt2-tokenizer', (d) =>
      editJson(
        path.join(d, 'tokenizer.json'),
        (t) =>
          (t.post_processor = { type: 'ByteLevel', add_prefix_space: false, trim_offsets: false, use_regex: true }),
      ),
    );
    expect((await loadError(dir)).message).toBe(
      'Unsupported model: tokenizer.json has post_processor ByteLevel (no special tokens around a question/context pair); expected a post_processor among TemplateProcessing, BertProcessing, RobertaProcessing, as question-answering exports have',
    );
  });

  test('through the API: MODEL_UNAVAILABLE for clients, and the load-failure log line says what was found and expected', async () => {
    const dir = variant('generative-api', (d) =>
      editJson(path.join(d, 'config.json'), (c) => Object.assign(c, { architectures: ['RobertaForCausalLM'] })),
    );
    const logged: Array<{ message: string; fields: Record<string, unknown> | undefined }> = [];
    const logger = {
      info: () => undefined,
      warn: () => undefined,
      error: (message: string, fields?: Record<string, unknown>) => void logged.push({ message, fields }),
    };
    const provider = new ModelProvider(() => loadModel(dir, { preferQuantized: true, read: READ, threads: 1 }), {
      logger,
    });
    const api = createApi({
      config: apiConfig({ production: true, ide: false, introspection: false }),
      provider,
      ideAssetsDir: null,
      logSink: () => undefined,
    });
    try {
      const res = await lambdaTransport(api)(gql('{ model { name } }'));
      expect(res.status).toBe(503);
      expect(res.json.errors[0].extensions.code).toBe('MODEL_UNAVAILABLE');
      expect(logged).toEqual([
        {
          message: 'model load failed',
          fields: expect.objectContaining({
            reason: expect.stringMatching(
              /^Unsupported model: config\.json has architectures RobertaForCausalLM \(a generative model, model_type roberta\); expected an extractive question-answering export/,
            ),
          }),
        },
      ]);
    } finally {
      await api.server.stop();
    }
  });

  test('an unknown pair template (the context before the question)', async () => {
    const dir = variant('context-first', (d) =>
      editJson(path.join(d, 'tokenizer.json'), (t) => {
        const special = (id: string) => ({ SpecialToken: { id, type_id: 0 } });
        const seq = (id: string) => ({ Sequence: { id, type_id: 0 } });
        t.post_processor = {
          type: 'TemplateProcessing',
          single: [special('<s>'), seq('A'), special('</s>')],
          pair: [special('<s>'), seq('B'), special('</s>'), special('</s>'), seq('A'), special('</s>')],
          special_tokens: {
            '<s>': { id: '<s>', ids: [0], tokens: ['<s>'] },
            '</s>': { id: '</s>', ids: [2], tokens: ['</s>'] },
          },
        };
      }),
    );
    expect((await loadError(dir)).found).toBe('the pair template <s> context </s> </s> question </s>');
  });
});
