/**
 * The error codes a request's log line and metrics report are those of the errors its response
 * carries, whoever made them: an operation (Apollo's pipeline), Apollo before any operation runs
 * (a CSRF refusal, a GET without a query), or the request core itself (a malformed body, a
 * response over the size limit). The expected codes are read from the body the client got.
 */
import { afterAll, describe, expect, test } from '@jest/globals';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig, type ApiConfig } from '../../src/server/config';
import type { RunningServer } from '../../src/local-server';
import type { LogEntry } from '../../src/server/request-log';
import type { MetricsRecorder, RequestRecord } from '../../src/server/metrics';
import type { ModelProvider } from '../../src/model/loading/types';
import { fixedModel, UnavailableProvider, loadTinyModel } from './helpers/engines';
import { JSON_HEADERS, bothTransports, gql, type Req, type Res, type Transport } from '../hardening/helpers/transports';

const apis: Api[] = [];
const servers: RunningServer[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
  for (const a of apis) await a.server.stop().catch(() => undefined);
});

interface Observed {
  transports: Array<[string, Transport]>;
  logs: LogEntry[];
  records: RequestRecord[];
}

/** Both transports on one configuration, with their log lines and metrics records captured. */
async function both(
  config: ApiConfig,
  provider: () => ModelProvider = () => new UnavailableProvider(),
): Promise<Observed> {
  const logs: LogEntry[] = [];
  const records: RequestRecord[] = [];
  const metrics: MetricsRecorder = {
    request: (record) => void records.push(record),
    modelLoaded: () => undefined,
    modelLoadFailed: () => undefined,
  };
  const make = () =>
    createApi({ config, provider: provider(), ideAssetsDir: null, logSink: (e) => void logs.push(e), metrics });
  return {
    transports: await bothTransports(make, { apis, servers }),
    logs,
    records,
  };
}

/** The codes of every error in a response body (a batch's bodies in order). */
function bodyCodes(res: Res): string[] {
  const bodies: Array<{ errors?: Array<{ extensions: { code: string } }> }> = Array.isArray(res.json)
    ? res.json
    : [res.json];
  return bodies.flatMap((b) => (b?.errors ?? []).map((e) => e.extensions.code));
}

const config = apiConfig({ production: true, ide: false, introspection: false, logRequests: true });
const answerQuery = '{ answer(question: "Where?", context: "In Paris.") { text } }';

/** [what it is, the request, the status and codes the client gets (checked against the body too)]. */
const cases: Array<[string, Req, number, string[]]> = [
  [
    "Apollo's CSRF refusal of a GET without a preflight header",
    { method: 'GET', query: 'query=%7B__typename%7D', headers: { accept: 'application/json' } },
    400,
    ['BAD_REQUEST'],
  ],
  [
    "Apollo's refusal of a GET whose variables are not JSON",
    {
      method: 'GET',
      query: 'query=%7B__typename%7D&variables=%7Bnot',
      headers: { 'apollo-require-preflight': 'true' },
    },
    400,
    ['BAD_REQUEST'],
  ],
  ["Apollo's validation of an operation", gql('{ nope }'), 400, ['GRAPHQL_VALIDATION_FAILED']],
  ['a resolver error', gql(answerQuery), 503, ['MODEL_UNAVAILABLE']],
  ['no error', gql('{ health { ready } }'), 200, []],
  ["the core's refusal of a malformed body", { headers: JSON_HEADERS, body: '{"query": ' }, 400, ['BAD_REQUEST']],
];

describe('the log line and the metrics report the codes of the errors sent', () => {
  test.each(cases)('%s', async (_name, req, status, codes) => {
    const { transports, logs, records } = await both(config);
    for (const [name, transport] of transports) {
      logs.length = 0;
      records.length = 0;
      const res = await transport(req);
      expect([name, res.status]).toEqual([name, status]);
      expect(bodyCodes(res)).toEqual(codes);
      const lines = logs.filter((e) => e.msg === 'request');
      expect(lines.map((l) => [l.status, l.codes])).toEqual([[status, codes]]);
      expect(records.map((r) => [r.status, r.codes])).toEqual([[status, codes]]);
    }
  });

  test("a response over the size limit: only the core's RESPONSE_TOO_LARGE, not the errors it replaced", async () => {
    const { transports, logs, records } = await both({
      ...config,
      limits: { ...config.limits, maxResponseBytes: 1000 },
    });
    const fields = Array.from({ length: 30 }, (_, i) => `unknown${i}`).join(' ');
    for (const [, transport] of transports) {
      logs.length = 0;
      records.length = 0;
      const res = await transport(gql(`{ ${fields} }`));
      expect([res.status, bodyCodes(res)]).toEqual([422, ['RESPONSE_TOO_LARGE']]);
      expect(logs.filter((e) => e.msg === 'request').map((l) => l.codes)).toEqual([['RESPONSE_TOO_LARGE']]);
      expect(records.map((r) => r.codes)).toEqual([['RESPONSE_TOO_LARGE']]);
    }
  });

  test('a batch: the codes of both operations', async () => {
    const { transports, logs } = await both(config);
    const batch = { headers: JSON_HEADERS, body: JSON.stringify([{ query: '{ nope }' }, { query: answerQuery }]) };
    for (const [, transport] of transports) {
      logs.length = 0;
      const res = await transport(batch);
      const sent = bodyCodes(res);
      expect([...sent].sort()).toEqual(['GRAPHQL_VALIDATION_FAILED', 'MODEL_UNAVAILABLE']);
      const lines = logs.filter((e) => e.msg === 'request');
      expect(lines).toHaveLength(1);
      expect([...(lines[0]!.codes as string[])].sort()).toEqual([...sent].sort());
    }
  });

  test('concurrent requests each report their own codes', async () => {
    const { transports, logs } = await both(config);
    const kinds = [gql('{ nope }'), gql(answerQuery), gql('{ health { ready } }')];
    for (const [, transport] of transports) {
      logs.length = 0;
      const sent = await Promise.all(
        Array.from({ length: 24 }, async (_, i) => {
          const res = await transport(kinds[i % kinds.length]!);
          return [res.headers['x-request-id'], bodyCodes(res)] as const;
        }),
      );
      const logged = new Map(logs.filter((e) => e.msg === 'request').map((e) => [e.requestId, e.codes]));
      expect(logged.size).toBe(sent.length);
      for (const [id, codes] of sent) expect([id, logged.get(id!)]).toEqual([id, codes]);
    }
  });

  test('concurrent requests through the engine, errors made after its work, each report their own codes', async () => {
    const tiny = await loadTinyModel();
    const { transports, logs } = await both(config, () => fixedModel(tiny.engine, tiny.info));
    const answer = 'answer(question: "Where is it?", context: "It is in Paris, near the river.") { text }';
    const kinds = [
      // One answer from the engine beside an invalid input: its error is formatted after the engine's work.
      gql(`{ a: ${answer} b: answer(question: " ", context: "x") { text } }`),
      gql(`{ ${answer} }`),
      gql('{ nope }'),
    ];
    for (const [, transport] of transports) {
      logs.length = 0;
      const sent = await Promise.all(
        Array.from({ length: 18 }, async (_, i) => {
          const res = await transport(kinds[i % kinds.length]!);
          return [res.headers['x-request-id'], bodyCodes(res)] as const;
        }),
      );
      expect(new Set(sent.map(([, codes]) => codes.join()))).toEqual(
        new Set(['BAD_USER_INPUT', '', 'GRAPHQL_VALIDATION_FAILED']),
      );
      const logged = new Map(logs.filter((e) => e.msg === 'request').map((e) => [e.requestId, e.codes]));
      for (const [id, codes] of sent) expect([id, logged.get(id!)]).toEqual([id, codes]);
    }
  }, 60_000);
});
