/**
 * The two ways a request reaches the API, behind one function: the Lambda handler (a real API
 * Gateway v2 event, as src/handler.ts builds it) and the local server (real HTTP).
 */
import type { Api } from '../../../src/server/api';
import { createApiLambdaHandler } from '../../../src/server/lambda';
import { listen, type RunningServer } from '../../../src/local-server';
import { lambdaContext, v2Event, type V2Handler } from '../../api/helpers/lambda-events';

export interface Req {
  method?: string;
  /** The query string, without `?`. */
  query?: string;
  headers?: Record<string, string>;
  /** A Buffer is sent byte for byte (base64 in the Lambda event, as API Gateway does for binary). */
  body?: string | Buffer;
}

export interface Res {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** The parsed body, or undefined when it is not JSON. */
  json: any;
}

export type Transport = (req: Req) => Promise<Res>;

function parse(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

let invocation = 0;

/**
 * `remainingMs`: what the invocation's `getRemainingTimeInMillis()` answers when it starts (Lambda's
 * timeout less the time already spent), counting down as real time passes; none by default.
 */
export function lambdaTransport(
  api: Api,
  options: {
    remainingMs?: number;
    /** Each answer of getRemainingTimeInMillis, in order. */ remainingReads?: number[];
  } = {},
): Transport {
  const handler = createApiLambdaHandler(api) as unknown as V2Handler;
  return async (req) => {
    const raw = Buffer.isBuffer(req.body);
    const event = v2Event({
      method: req.method ?? 'POST',
      query: req.query,
      headers: req.headers,
      body: raw ? (req.body as Buffer).toString('base64') : (req.body as string | undefined),
    });
    if (raw) event.isBase64Encoded = true;
    // Each invocation has its own awsRequestId, as on Lambda.
    const context = { ...lambdaContext, awsRequestId: `lambda-${++invocation}` };
    if (options.remainingMs !== undefined) {
      const end = Date.now() + options.remainingMs;
      context.getRemainingTimeInMillis = () => {
        const left = Math.max(0, end - Date.now());
        options.remainingReads?.push(left);
        return left;
      };
    }
    const result = await handler(event, context, () => undefined);
    if (!result) throw new Error('the handler returned nothing');
    const text = result.isBase64Encoded
      ? Buffer.from(result.body ?? '', 'base64').toString('utf8')
      : (result.body ?? '');
    const headers = Object.fromEntries(
      Object.entries(result.headers ?? {}).map(([k, v]) => [k.toLowerCase(), String(v)]),
    );
    return { status: result.statusCode ?? 200, headers, text, json: parse(text) };
  };
}

/** `signal` aborts the request (the client disconnects). */
export function localTransport(server: RunningServer): Transport & ((req: Req, signal?: AbortSignal) => Promise<Res>) {
  return async (req: Req, signal?: AbortSignal) => {
    const url = req.query !== undefined ? `${server.url}?${req.query}` : server.url;
    const res = await fetch(url, { method: req.method ?? 'POST', headers: req.headers, body: req.body, signal });
    const text = await res.text();
    return { status: res.status, headers: Object.fromEntries(res.headers), text, json: parse(text) };
  };
}

/** What `bothTransports` started, for the test file to close after its tests. */
export interface Started {
  apis: Api[];
  servers: RunningServer[];
}

/**
 * One configuration behind both transports: `make` builds an API for a local server on a free port
 * and another for the Lambda handler (two instances, as two sandboxes would be); both are added to
 * `started`.
 */
export async function bothTransports(make: () => Api, started: Started): Promise<Array<[string, Transport]>> {
  const localApi = make();
  const lambdaApi = make();
  started.apis.push(localApi, lambdaApi);
  const running = await listen(localApi, { port: 0, host: '127.0.0.1' });
  started.servers.push(running);
  return [
    ['lambda', lambdaTransport(lambdaApi)],
    ['local', localTransport(running)],
  ];
}

export const JSON_HEADERS = { 'content-type': 'application/json' };

export function gql(query: string, variables?: Record<string, unknown>, extra: Record<string, unknown> = {}): Req {
  return { headers: JSON_HEADERS, body: JSON.stringify({ query, variables, ...extra }) };
}

export const ANSWER =
  'query A($q: String!, $c: String!) { answer(question: $q, context: $c) { text score start end } }';
export const CONTEXT = 'The Eiffel Tower is a wrought-iron lattice tower on the Champ de Mars in Paris, France.';
export const QUESTION = 'Where is the Eiffel Tower?';
export const validRequest = (): Req => gql(ANSWER, { q: QUESTION, c: CONTEXT });

/** Records unhandled rejections and uncaught exceptions; call the returned function to fail on any. */
export function trackProcessFailures(): () => void {
  const seen: string[] = [];
  const onRejection = (reason: unknown): void =>
    void seen.push(`unhandledRejection: ${String((reason as Error)?.stack ?? reason)}`);
  const onException = (error: Error): void => void seen.push(`uncaughtException: ${error.stack ?? error}`);
  process.on('unhandledRejection', onRejection);
  process.on('uncaughtException', onException);
  return () => {
    process.off('unhandledRejection', onRejection);
    process.off('uncaughtException', onException);
    if (seen.length > 0) throw new Error(seen.join('\n'));
  };
}
