/**
 * Powertools Logger and Metrics from real runs: the Lambda entry module (src/handler.ts, as
 * deployed: config from the environment, the model loaded from MODEL_URI by the real provider) and
 * the local server, with what they print on stdout parsed back: the EMF lines CloudWatch would turn
 * into metrics, and the log lines.
 *
 * Expected values come from outside the code under test: window and token counts from the model's
 * own tokenizer (one window per short input: [CLS] question [SEP] context [SEP]), the request id
 * from the invocation's context, the correlation id from the event.
 */
import { afterEach, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as path from 'node:path';
import { Tokenizer } from 'tokenizers';
import type { APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';
import { ensureTestModel } from '../../scripts/model-generator';
import { createApi } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { listen } from '../../src/local-server';
import { ApolloServerErrorCode, ApolloServerValidationErrorCode } from '@apollo/server/errors';
import { ApiMetrics, METRIC_ERROR_CODES, versionDimension, METRICS_NAMESPACE } from '../../src/server/metrics';
import type { ModelInfo } from '../../src/model/loading/types';
import { fixedModel, loadTinyModel } from '../api/helpers/engines';
import { v2Event } from '../api/helpers/lambda-events';

type Line = Record<string, any>;

/**
 * Every line written to stdout and stderr while `run` runs (Logger writes WARN and ERROR lines to
 * stderr; Lambda sends both to CloudWatch), in order, parsed when it is JSON.
 */
async function captureStdout<T>(run: () => Promise<T>): Promise<{ result: T; lines: Line[]; raw: string }> {
  const chunks: string[] = [];
  const capture = ((chunk: string | Uint8Array) => {
    chunks.push(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8'));
    return true;
  }) as typeof process.stdout.write;
  const spies = [
    jest.spyOn(process.stdout, 'write').mockImplementation(capture),
    jest.spyOn(process.stderr, 'write').mockImplementation(capture),
  ];
  let result: T;
  try {
    result = await run();
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
  const raw = chunks.join('');
  const lines = raw
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Line);
  return { result, lines, raw };
}

/** EMF lines: `_aws.CloudWatchMetrics` names the namespace, dimensions and metrics. */
const emf = (lines: Line[]) => lines.filter((l) => l._aws?.CloudWatchMetrics);
const directive = (l: Line) =>
  l._aws.CloudWatchMetrics[0] as {
    Namespace: string;
    Dimensions: string[][];
    Metrics: Array<{ Name: string; Unit: string }>;
  };
const metricNames = (l: Line) =>
  directive(l)
    .Metrics.map((m) => m.Name)
    .sort();
const withMetric = (lines: Line[], name: string) => emf(lines).filter((l) => metricNames(l).includes(name));

const ENV_KEYS = [
  'AWS_LAMBDA_INITIALIZATION_TYPE',
  'MODEL_URI',
  'API_STAGE',
  'API_LOG_REQUESTS',
  'API_MAX_REQUEST_WINDOWS',
  'POWERTOOLS_METRICS_DISABLED',
  'POWERTOOLS_LOGGER_SAMPLE_RATE',
  'POWERTOOLS_SERVICE_NAME',
  'POWERTOOLS_METRICS_NAMESPACE',
];
const savedEnv = Object.fromEntries(ENV_KEYS.map((k) => [k, process.env[k]]));
afterEach(() => {
  for (const [k, v] of Object.entries(savedEnv)) {
    if (v === undefined) delete process.env[k];
    else process.env[k] = v;
  }
});

type HandlerModule = typeof import('../../src/handler');

/**
 * A fresh copy of the Lambda entry module, as a new container would load it, with `env`, once its
 * INIT-time model load has ended (`ready`). The load is awaited inside the isolated module registry:
 * the loader imports the engine lazily, and an import after the isolation ended would load a second
 * copy of the error classes (whose `instanceof` checks then fail).
 */
async function coldStart(env: Record<string, string>): Promise<{ mod: HandlerModule; ready: boolean }> {
  // Lambda sets AWS_LAMBDA_INITIALIZATION_TYPE; Powertools reports cold_start only for on-demand.
  Object.assign(
    process.env,
    { AWS_LAMBDA_INITIALIZATION_TYPE: 'on-demand', POWERTOOLS_METRICS_DISABLED: 'false', API_LOG_REQUESTS: 'true' },
    env,
  );
  let loaded: { mod: HandlerModule; ready: boolean } | undefined;
  await jest.isolateModulesAsync(async () => {
    const mod = await import('../../src/handler');
    loaded = { mod, ready: await mod.ready };
  });
  return loaded!;
}

const context = (awsRequestId: string) =>
  ({ functionName: 'qa-api', awsRequestId, getRemainingTimeInMillis: () => 29_000 }) as unknown as Context;

function answerBody(inputs: Array<{ question: string; context: string }>): string {
  const fields = inputs.map((_, i) => `a${i}: answer(question: $q${i}, context: $c${i}) { text }`).join(' ');
  const vars = inputs.map((_, i) => `$q${i}: String!, $c${i}: String!`).join(', ');
  const variables = Object.fromEntries(
    inputs.flatMap((input, i) => [
      [`q${i}`, input.question],
      [`c${i}`, input.context],
    ]),
  );
  return JSON.stringify({ query: `query Q(${vars}) { ${fields} }`, variables });
}

const INPUTS = [
  { question: 'Where does the secret walrus live?', context: 'The secret walrus lives in Tromsø, behind the harbour.' },
  { question: 'Who paints the lighthouse?', context: 'Marguerite paints the lighthouse every spring.' },
  { question: 'What colour is the third door?', context: 'The third door is painted a deep ochre.' },
];

let modelDir: string;
let tokenizer: Tokenizer;
/** Tokens of a one-window input, by the model's own tokenizer (special tokens included). */
async function windowTokens(input: { question: string; context: string }): Promise<number> {
  return (await tokenizer.encode(input.question, input.context)).getIds().length;
}

beforeAll(async () => {
  modelDir = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
  tokenizer = Tokenizer.fromFile(path.join(modelDir, 'tokenizer.json'));
}, 120_000);

describe('the Lambda handler (src/handler.ts) with the model loaded', () => {
  let lines: Line[];
  let raw: string;
  let results: APIGatewayProxyStructuredResultV2[];

  beforeAll(async () => {
    // A budget of 2 windows: the third input of the second request is refused (a budget rejection).
    // The response cache (on in production) is off here: its metrics are checked under ApiMetrics.
    const captured = await captureStdout(async () => {
      const { mod, ready } = await coldStart({
        MODEL_URI: modelDir,
        API_STAGE: 'emftest',
        API_MAX_REQUEST_WINDOWS: '2',
        API_RESPONSE_CACHE_BYTES: '0',
        POWERTOOLS_LOGGER_SAMPLE_RATE: '1',
      });
      expect(ready).toBe(true);
      const out: APIGatewayProxyStructuredResultV2[] = [];
      for (const [id, inputs] of [
        ['inv-1', INPUTS.slice(0, 2)],
        ['inv-2', INPUTS],
      ] as const) {
        const event = v2Event({ headers: { 'content-type': 'application/json' }, body: answerBody([...inputs]) });
        event.requestContext.requestId = `apigw-${id}`;
        out.push((await mod.handler(event, context(id), () => undefined)) as APIGatewayProxyStructuredResultV2);
      }
      return out;
    });
    ({ lines, raw } = captured);
    results = captured.result;
  }, 120_000);

  test('each request: one EMF line with latency, inputs, windows, tokens, errors and budget rejections', async () => {
    const requests = withMetric(lines, 'Requests');
    expect(requests).toHaveLength(2);
    for (const line of requests) {
      expect(directive(line).Namespace).toBe(METRICS_NAMESPACE);
      expect(directive(line).Dimensions).toEqual([['service', 'stage']]);
      expect(line.service).toBe('serverless-qa-graphql');
      expect(line.stage).toBe('emftest');
      expect(metricNames(line)).toEqual([
        'BudgetRejections',
        'Errors',
        'Inputs',
        'Latency',
        'Requests',
        'Tokens',
        'Windows',
      ]);
      expect(directive(line).Metrics.find((m) => m.Name === 'Latency')?.Unit).toBe('Milliseconds');
      expect(line.Latency).toBeGreaterThanOrEqual(0);
    }
    const twoTokens = (await windowTokens(INPUTS[0]!)) + (await windowTokens(INPUTS[1]!));
    expect(requests.map((l) => [l.Inputs, l.Windows, l.Tokens, l.Errors, l.BudgetRejections])).toEqual([
      [2, 2, twoTokens, 0, 0],
      // The third input needs a window the budget of 2 no longer has: refused, nothing run for it.
      [3, 2, twoTokens, 1, 1],
    ]);
    expect(results.map((r) => r.statusCode)).toEqual([200, 200]);
  });

  test('errors by code: a line with the bounded `code` dimension', () => {
    const byCode = emf(lines).filter((l) => directive(l).Dimensions[0]!.includes('code'));
    expect(byCode).toHaveLength(1);
    expect(directive(byCode[0]!).Dimensions).toEqual([['service', 'stage', 'code']]);
    expect(byCode[0]).toMatchObject({ code: 'BAD_USER_INPUT', Errors: 1 });
  });

  test('the cold start: each load part and the model version, once', () => {
    const loads = withMetric(lines, 'ModelLoads');
    expect(loads).toHaveLength(1);
    const load = loads[0]!;
    expect(directive(load).Dimensions).toEqual([['service', 'stage', 'modelVersion']]);
    expect(metricNames(load)).toEqual([
      'ModelBytes',
      'ModelDownloadMs',
      'ModelLoadMs',
      'ModelLoads',
      'ModelSessionCreateMs',
      'ModelTokenizerMs',
    ]);
    // A local folder with no manifest and no ETag.
    expect(load.modelVersion).toBe('unversioned');
    for (const part of ['ModelDownloadMs', 'ModelSessionCreateMs', 'ModelTokenizerMs']) {
      expect(load[part]).toBeGreaterThanOrEqual(0);
      expect(load[part]).toBeLessThanOrEqual(load.ModelLoadMs);
    }
    expect(load.ModelBytes).toBeGreaterThan(0);
    expect(withMetric(lines, 'ModelLoadFailures')).toEqual([]);
  });

  test('log lines: one per request, with cold_start, the invocation and API Gateway ids, and the header', () => {
    const requestLines = lines.filter((l) => l.message === 'request');
    expect(requestLines).toHaveLength(2);
    expect(requestLines.map((l) => [l.requestId, l.function_request_id, l.correlation_id, l.cold_start])).toEqual([
      ['inv-1', 'inv-1', 'apigw-inv-1', true],
      ['inv-2', 'inv-2', 'apigw-inv-2', false],
    ]);
    expect(requestLines.map((l) => [l.level, l.status, l.inputs, l.windows, l.budgetRejections, l.codes])).toEqual([
      ['INFO', 200, 2, 2, 0, []],
      // Two answers and one refusal: 200 with the error beside the data (partial-success.ts).
      ['INFO', 200, 3, 2, 1, ['BAD_USER_INPUT']],
    ]);
    expect(results.map((r) => r.headers?.['x-request-id'])).toEqual(['inv-1', 'inv-2']);
    expect(lines.filter((l) => l.message === 'model loaded')).toHaveLength(1);
  });

  test('debug lines are sampled (rate 1 here): operation names and codes only', () => {
    const debug = lines.filter((l) => l.level === 'DEBUG' && l.message === 'operation');
    expect(debug.map((l) => [l.message, l.operationName, l.codes])).toEqual([
      ['operation', 'Q', []],
      ['operation', 'Q', ['BAD_USER_INPUT']],
    ]);
    expect(debug.every((l) => l.sampling_rate === 1)).toBe(true);
  });

  test("no user's text anywhere on stdout (API_LOG_REQUEST_TEXT is off)", () => {
    for (const input of INPUTS) {
      expect(raw).not.toContain(input.question);
      expect(raw).not.toContain(input.context);
    }
  });
});

describe('the `code` dimension', () => {
  test("names every code Apollo sends, besides the API's own (or Apollo's errors would count as OTHER)", () => {
    const apollos = [...Object.values(ApolloServerErrorCode), ApolloServerValidationErrorCode.INTROSPECTION_DISABLED];
    expect(apollos.filter((code) => !METRIC_ERROR_CODES.has(code))).toEqual([]);
    expect(METRIC_ERROR_CODES.has('MODEL_UNAVAILABLE')).toBe(true);
  });
});

describe('the Lambda handler when the model cannot load', () => {
  test('ModelLoadFailures, then MODEL_UNAVAILABLE counted by code; no debug lines without sampling', async () => {
    const { lines, result } = await captureStdout(async () => {
      const { mod, ready } = await coldStart({
        MODEL_URI: path.join(modelDir, 'does-not-exist'),
        API_STAGE: 'emftest',
      });
      expect(ready).toBe(false);
      return (await mod.handler(
        v2Event({ headers: { 'content-type': 'application/json' }, body: answerBody(INPUTS.slice(0, 1)) }),
        context('inv-f'),
        () => undefined,
      )) as APIGatewayProxyStructuredResultV2;
    });
    expect(result.statusCode).toBe(503);
    const failures = withMetric(lines, 'ModelLoadFailures');
    expect(failures).toHaveLength(1);
    expect(directive(failures[0]!).Dimensions).toEqual([['service', 'stage']]);
    expect(failures[0]).toMatchObject({ ModelLoadFailures: 1, stage: 'emftest' });
    expect(withMetric(lines, 'ModelLoads')).toEqual([]);
    const byCode = emf(lines).filter((l) => l.code !== undefined);
    expect(byCode.map((l) => [l.code, l.Errors])).toEqual([['MODEL_UNAVAILABLE', 1]]);
    expect(withMetric(lines, 'Requests').map((l) => [l.Inputs, l.Windows, l.Errors])).toEqual([[1, 0, 1]]);
    expect(lines.filter((l) => l.message === 'request').map((l) => [l.level, l.status, l.codes])).toEqual([
      ['ERROR', 503, ['MODEL_UNAVAILABLE']],
    ]);
    expect(lines.filter((l) => l.level === 'DEBUG')).toEqual([]);
  }, 120_000);
});

describe('the local server', () => {
  test('logs through the same Logger and emits the same request metrics', async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const model = await loadTinyModel();
    const api = createApi({
      config: apiConfig({ production: true, introspection: false, ide: false, logRequests: true, stage: 'local-test' }),
      provider: fixedModel(model.engine),
      ideAssetsDir: null,
    });
    const server = await listen(api, { port: 0, host: '127.0.0.1' });
    try {
      const { lines, result } = await captureStdout(async () => {
        const res = await fetch(server.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-request-id': 'local-1' },
          body: answerBody(INPUTS.slice(0, 1)),
        });
        await res.text();
        return res;
      });
      expect(result.status).toBe(200);
      expect(result.headers.get('x-request-id')).toBe('local-1');
      const requests = withMetric(lines, 'Requests');
      expect(requests.map((l) => [l.stage, l.Inputs, l.Windows, l.Tokens, l.Errors])).toEqual([
        ['local-test', 1, 1, await windowTokens(INPUTS[0]!), 0],
      ]);
      const logged = lines.filter((l) => l.message === 'request');
      expect(logged.map((l) => [l.requestId, l.service, l.status])).toEqual([
        ['local-1', 'serverless-qa-graphql', 200],
      ]);
      // No Lambda context on this transport.
      expect(logged[0]!.function_request_id).toBeUndefined();
    } finally {
      await server.close();
    }
  }, 120_000);
});

describe('ApiMetrics', () => {
  test("ResponseCacheHits and ResponseCacheMisses only where the response cache reported (the recorder snapshot's responseCache)", async () => {
    process.env.POWERTOOLS_METRICS_DISABLED = 'false';
    const metrics = new ApiMetrics({ stage: 'unit' });
    const record = { status: 200, durationMs: 5, inputs: 1, windows: 0, tokens: 0, codes: [], budgetRejections: 0 };
    const { lines } = await captureStdout(async () => {
      metrics.request(record);
      metrics.request({ ...record, responseCache: { hits: 2, misses: 1 } });
      metrics.request({ ...record, responseCache: { hits: 0, misses: 3 } });
    });
    expect(emf(lines).map((l) => [l.ResponseCacheHits, l.ResponseCacheMisses])).toEqual([
      [undefined, undefined],
      [2, 1],
      [0, 3],
    ]);
    expect(emf(lines).map((l) => metricNames(l).includes('ResponseCacheHits'))).toEqual([false, true, true]);
  });
});

describe('the modelVersion dimension', () => {
  const info = (extra: Partial<ModelInfo> & { version?: string }) => ({ etag: null, ...extra }) as ModelInfo;
  test.each([
    ['the manifest version first', info({ version: '2026-11-30.1', etag: '"abc"' }), '2026-11-30.1'],
    ['else the ETag, unquoted', info({ etag: '"abc"' }), 'abc'],
    ['else unversioned', info({}), 'unversioned'],
  ])('%s', (_name, given, expected) => {
    expect(versionDimension(given)).toBe(expected);
  });
});
