/**
 * Production posture: what "production" means (API_STAGE, Lambda), introspection and the IDE off
 * there unless enabled, internal errors masked, the CORS allow-list and preflights on both
 * transports, request ids, and logs that never carry users' text unless the debug switch is on.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { createApi, type Api } from '../../src/server/api';
import { demoNoticePlugin } from '../../src/server/demo-notice';
import { apiConfig, loadApiConfig, type ApiConfig } from '../../src/server/config';
import { listen, type RunningServer } from '../../src/local-server';
import type { LogEntry } from '../../src/server/request-log';
import { FailingEngine, fixedModel, loadTinyModel } from '../api/helpers/engines';
import {
  JSON_HEADERS,
  bothTransports,
  gql,
  lambdaTransport,
  localTransport,
  trackProcessFailures,
  type Transport,
} from './helpers/transports';

const checkProcess = trackProcessFailures();
const apis: Api[] = [];
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const a of apis) await a.server.stop().catch(() => undefined);
  checkProcess();
});

/** The tiny model's engine, loaded once for every `both()` that does not bring its own. */
let tinyEngine: ReturnType<typeof loadTinyModel> | undefined;

/** Both transports on one configuration and provider, with their log lines captured. */
async function both(
  config: ApiConfig,
  provider: Parameters<typeof fixedModel>[0] | null = null,
): Promise<{ transports: Array<[string, Transport]>; logs: LogEntry[] }> {
  const logs: LogEntry[] = [];
  const engine = provider ?? (await (tinyEngine ??= loadTinyModel())).engine;
  const make = () =>
    createApi({
      config,
      provider: fixedModel(engine),
      ideAssetsDir: config.ide ? undefined : null,
      logSink: (e) => void logs.push(e),
    });
  return {
    transports: await bothTransports(make, { apis, servers }),
    logs,
  };
}

describe('what production means', () => {
  test.each([
    [{}, false, 'local, no API_STAGE (npm start)'],
    [{ AWS_LAMBDA_FUNCTION_NAME: 'qa-api' }, true, 'on Lambda without API_STAGE (fails closed)'],
    [{ API_STAGE: 'prod' }, true, 'API_STAGE=prod'],
    [{ API_STAGE: 'staging' }, true, 'any stage not named dev'],
    [{ API_STAGE: 'dev', AWS_LAMBDA_FUNCTION_NAME: 'qa-api' }, false, 'API_STAGE=dev on Lambda'],
  ] as Array<[NodeJS.ProcessEnv, boolean, string]>)('%j → production %s (%s)', (env, production) => {
    const config = loadApiConfig(env);
    expect(config).toMatchObject({
      production,
      introspection: !production,
      ide: !production,
      logRequests: production,
      logRequestText: false,
      maskErrors: true,
    });
  });

  test('explicit switches win in production', () => {
    expect(loadApiConfig({ API_STAGE: 'prod', API_INTROSPECTION: 'true', API_IDE: 'true' })).toMatchObject({
      production: true,
      introspection: true,
      ide: true,
    });
  });

  test('API_CORS_ORIGINS: a list of origins, validated', () => {
    expect(
      loadApiConfig({ API_CORS_ORIGINS: ' https://App.example.com , http://localhost:3000 ' }).corsOrigins,
    ).toEqual(['https://app.example.com', 'http://localhost:3000']);
    expect(() => loadApiConfig({ API_CORS_ORIGINS: 'https://app.example.com/path' })).toThrow(
      /API_CORS_ORIGINS must be a comma-separated list of origins/,
    );
    expect(() => loadApiConfig({ API_CORS_ORIGINS: 'app.example.com' })).toThrow(/API_CORS_ORIGINS/);
  });
});

describe('production: introspection and the IDE are off', () => {
  test('both transports', async () => {
    const { transports } = await both(loadApiConfig({ API_STAGE: 'prod' }));
    for (const [, transport] of transports) {
      const intro = await transport(gql('{ __schema { queryType { name } } }'));
      expect(intro.status).toBe(400);
      expect(intro.json.errors[0].extensions.code).toBe('GRAPHQL_VALIDATION_FAILED');
      // The refusal names the variable that turns it on, not Apollo's constructor option.
      expect(intro.json.errors[0].message).toMatch(/API_INTROSPECTION/);
      expect(intro.json.errors[0].message).not.toMatch(/ApolloServer|introspection: true/);
      // A browser opening the endpoint gets no IDE, and a page saying why and how to call the API
      // (not Apollo's CSRF refusal of a GET).
      const page = await transport({ method: 'GET', headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
      expect(page.text).not.toMatch(/graphiql|<script/i);
      expect(page.text).toMatch(/API_IDE/);
      expect(page.text).toMatch(/POST/);
      // A GET without the preflight header from anything but a browser page load is still refused.
      const csrf = await transport({
        method: 'GET',
        query: 'query=%7B__typename%7D',
        headers: { accept: 'application/json' },
      });
      expect(csrf.status).toBe(400);
      // No "did you mean" schema hints either.
      const typo = await transport(gql('{ answr(question: "a", context: "b") { text } }'));
      expect(typo.json.errors[0].message).not.toMatch(/Did you mean/);
    }
  });

  test('development (npm start): the IDE and introspection are on', async () => {
    const { transports } = await both(loadApiConfig({}));
    for (const [, transport] of transports) {
      const intro = await transport(gql('{ __schema { queryType { name } } }'));
      expect(intro.json.data.__schema.queryType.name).toBe('Query');
      const page = await transport({ method: 'GET', headers: { accept: 'text/html' } });
      expect(page.status).toBe(200);
      expect(page.headers['content-type']).toMatch(/text\/html/);
    }
  });
});

test('model { source etag } name the bucket: null in production, shown in development', async () => {
  const tiny = await (tinyEngine ??= loadTinyModel());
  const info = {
    ...tiny.info,
    source: 's3://private-models-bucket/squad/',
    etag: '"5d41402abc4b2a76b9719d911017c592"',
  };
  const query = gql('{ model { name source etag quantized } }');
  for (const [production, expected] of [
    [true, { source: null, etag: null }],
    [false, { source: info.source, etag: info.etag }],
  ] as const) {
    const api = createApi({
      config: apiConfig({ production, ide: false }),
      provider: fixedModel(tiny.engine, info),
      ideAssetsDir: null,
    });
    apis.push(api);
    const res = await lambdaTransport(api)(query);
    expect(res.status).toBe(200);
    expect(res.json.data.model).toEqual({ name: info.name, quantized: info.quantized, ...expected });
    if (production) expect(res.text).not.toContain('private-models-bucket');
  }
});

test('the demo model says so in every response, where a client reading answers sees it; a real model adds nothing', async () => {
  const tiny = await (tinyEngine ??= loadTinyModel());
  const query = gql('{ answer(question: "Where is it?", context: "It is in Paris.") { text } }');
  for (const demo of [true, false]) {
    // As npm start builds it (scripts/start.ts).
    const api = createApi({
      config: apiConfig({ production: true, ide: false }),
      provider: fixedModel(tiny.engine, { ...tiny.info, demo }),
      ideAssetsDir: null,
      plugins: [demoNoticePlugin()],
    });
    apis.push(api);
    const running = await listen(api, { port: 0, host: '127.0.0.1' });
    servers.push(running);
    for (const transport of [lambdaTransport(api), localTransport(running)]) {
      const res = await transport(query);
      expect(res.status).toBe(200);
      expect(typeof res.json.data.answer.text).toBe('string');
      if (demo) {
        expect(res.json.extensions.warnings).toEqual([
          { code: 'DEMO_MODEL', message: expect.stringMatching(/demo model.*random.*mean nothing.*MODEL_URI/) },
        ]);
      } else {
        expect(res.json.extensions?.warnings).toBeUndefined();
      }
    }
  }
});

test('internal errors are masked: no message, stack trace or file path', async () => {
  const { transports, logs } = await both(loadApiConfig({ API_STAGE: 'prod' }), new FailingEngine());
  for (const [, transport] of transports) {
    const res = await transport(gql('{ answer(question: "Where?", context: "Here.") { text } }'));
    expect(res.status).toBe(500);
    expect(res.json.errors).toEqual([
      {
        message: 'Internal server error',
        locations: expect.any(Array),
        path: ['answer'],
        extensions: { code: 'INTERNAL_SERVER_ERROR' },
      },
    ]);
    expect(res.text).not.toMatch(/\/opt\/secret|onnxruntime|stacktrace|\.ts:|node_modules/);
  }
  // The operator still has it.
  expect(logs.filter((e) => e.msg === 'internal error').map((e) => e.message)).toEqual([
    expect.stringContaining('/opt/secret/model.onnx'),
    expect.stringContaining('/opt/secret/model.onnx'),
  ]);
});

describe('CORS allow-list (API_CORS_ORIGINS), both transports', () => {
  test('allowed origin: headers on responses; preflight 204 with methods and headers; other origins get nothing', async () => {
    const { transports } = await both(
      loadApiConfig({ API_STAGE: 'prod', API_CORS_ORIGINS: 'https://app.example.com' }),
    );
    for (const [, transport] of transports) {
      const preflight = await transport({
        method: 'OPTIONS',
        headers: {
          origin: 'https://app.example.com',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type',
        },
      });
      expect(preflight.status).toBe(204);
      expect(preflight.headers).toMatchObject({
        'access-control-allow-origin': 'https://app.example.com',
        'access-control-allow-methods': 'GET, POST, OPTIONS',
        'access-control-allow-headers': expect.stringContaining('content-type'),
        'access-control-max-age': '600',
        vary: 'Origin',
      });
      const post = await transport({
        ...gql('{ health { ready } }'),
        headers: { ...JSON_HEADERS, origin: 'https://app.example.com' },
      });
      expect(post.status).toBe(200);
      expect(post.headers['access-control-allow-origin']).toBe('https://app.example.com');
      expect(post.headers['access-control-expose-headers']).toContain('x-request-id');

      const evilPreflight = await transport({
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example.com', 'access-control-request-method': 'POST' },
      });
      expect(evilPreflight.status).toBe(204);
      expect(evilPreflight.headers['access-control-allow-origin']).toBeUndefined();
      expect(evilPreflight.headers['access-control-allow-methods']).toBeUndefined();
      const evil = await transport({
        ...gql('{ health { ready } }'),
        headers: { ...JSON_HEADERS, origin: 'https://evil.example.com' },
      });
      expect(evil.headers['access-control-allow-origin']).toBeUndefined();
    }
  });

  test('no list (default): no CORS headers at all', async () => {
    const { transports } = await both(loadApiConfig({ API_STAGE: 'prod' }));
    for (const [, transport] of transports) {
      const res = await transport({
        ...gql('{ health { ready } }'),
        headers: { ...JSON_HEADERS, origin: 'https://app.example.com' },
      });
      expect(Object.keys(res.headers).filter((h) => h.startsWith('access-control-'))).toEqual([]);
    }
  });
});

describe('request ids and logs', () => {
  const SECRET_Q = 'What is the launch code of ZEBRA-7741-SECRET?';
  const SECRET_C = 'The launch code of ZEBRA-7741-SECRET is hidden in the vault beneath Paris.';
  const requests = () => [
    gql('query A($q: String!, $c: String!) { answer(question: $q, context: $c) { text } }', {
      q: SECRET_Q,
      c: SECRET_C,
    }),
    gql(`{ inline: answer(question: ${JSON.stringify(SECRET_Q)}, context: ${JSON.stringify(SECRET_C)}) { text } }`),
    gql('query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } } }', {
      i: [
        { question: SECRET_Q, context: SECRET_C },
        { question: '', context: SECRET_C },
      ],
    }),
    gql(`{ answer(question: ${JSON.stringify(SECRET_Q)}, context: ${JSON.stringify(SECRET_C)}) { text nope } }`),
    { headers: JSON_HEADERS, body: `{"query": ${JSON.stringify(SECRET_Q)}` },
    gql('{ answer(question: " ", context: "ZEBRA-7741-SECRET") { text } }'),
  ];

  test('one JSON line per request with its id, status and codes; never the question or context', async () => {
    const { transports, logs } = await both(loadApiConfig({ API_STAGE: 'prod' }));
    const consoleLines: string[] = [];
    const spies = (['log', 'info', 'warn', 'error', 'debug'] as const).map((m) =>
      jest.spyOn(console, m).mockImplementation((...args) => void consoleLines.push(args.map(String).join(' '))),
    );
    const stdout = jest.spyOn(process.stdout, 'write');
    const ids = new Set<string>();
    try {
      for (const [name, transport] of transports) {
        for (const req of requests()) {
          const res = await transport(req);
          const id = res.headers['x-request-id']!;
          expect(id).toMatch(name === 'lambda' ? /^lambda-\d+$/ : /^[0-9a-f-]{36}$/);
          ids.add(id);
          const lines = logs.filter((e) => e.requestId === id && e.msg === 'request');
          expect(lines).toEqual([
            expect.objectContaining({
              status: res.status,
              method: 'POST',
              path: '/graphql',
              durationMs: expect.any(Number),
            }),
          ]);
          const codes = (res.json.errors ?? []).map((e: any) => e.extensions.code);
          expect(lines[0]!.codes).toEqual(codes);
        }
      }
    } finally {
      for (const s of spies) s.mockRestore();
    }
    const written = stdout.mock.calls.map((c) => String(c[0]));
    stdout.mockRestore();
    expect(ids.size).toBe(requests().length * 2);
    const everything = [...logs.map((e) => JSON.stringify(e)), ...consoleLines, ...written].join('\n');
    expect(logs.length).toBeGreaterThanOrEqual(requests().length * 2);
    expect(everything).not.toContain('ZEBRA');
    expect(everything).not.toContain('launch code');
  });

  test('a safe client x-request-id is kept locally; Lambda always uses its awsRequestId', async () => {
    const { transports } = await both(loadApiConfig({ API_STAGE: 'prod' }));
    const [[, lambda], [, local]] = transports as [[string, Transport], [string, Transport]];
    const req = { ...gql('{ health { ready } }'), headers: { ...JSON_HEADERS, 'x-request-id': 'client-abc.123' } };
    expect((await local(req)).headers['x-request-id']).toBe('client-abc.123');
    expect((await lambda(req)).headers['x-request-id']).toMatch(/^lambda-\d+$/);
    const hostile = { ...gql('{ health { ready } }'), headers: { ...JSON_HEADERS, 'x-request-id': 'a b"}{' } };
    expect((await local(hostile)).headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  test('API_LOG_REQUEST_TEXT=true (debug): the text is logged', async () => {
    const { transports, logs } = await both(loadApiConfig({ API_STAGE: 'prod', API_LOG_REQUEST_TEXT: 'true' }));
    for (const [, transport] of transports) await transport(requests()[0]!);
    const debug = logs.filter((e) => e.msg.startsWith('operation (debug'));
    expect(debug).toHaveLength(2);
    expect(JSON.stringify(debug)).toContain('ZEBRA-7741-SECRET');
  });
});
