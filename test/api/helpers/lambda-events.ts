/**
 * The events of every front door (API Gateway HTTP API and REST API, function URL, ALB with and
 * without multi-value headers), built from AWS's documented samples (test/fixtures/lambda-events/),
 * and a loopback server that turns HTTP requests into them.
 */
import { readFileSync } from 'node:fs';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type {
  ALBEvent,
  ALBResult,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
  Context,
} from 'aws-lambda';

// Lambda's Handler type: a callback-style handler returns nothing.
export type V2Handler = (
  event: APIGatewayProxyEventV2,
  context: Context,
  callback: () => void,
) => Promise<APIGatewayProxyStructuredResultV2> | void; // eslint-disable-line @typescript-eslint/no-invalid-void-type

export interface EventInit {
  method?: string;
  path?: string;
  query?: string;
  /** A list: the header was sent several times. */
  headers?: Record<string, string | string[]>;
  body?: string;
  base64?: boolean;
}

/** Every door, as its events differ; a function URL sends payload 2.0 from another sample. */
export const DOORS = ['httpApi', 'functionUrl', 'restApi', 'alb', 'albMultiValue'] as const;
export type Door = (typeof DOORS)[number];

export type AnyEvent = APIGatewayProxyEventV2 | APIGatewayProxyEvent | ALBEvent;
export type AnyResult = APIGatewayProxyStructuredResultV2 | APIGatewayProxyResult | ALBResult;
// eslint-disable-next-line @typescript-eslint/no-invalid-void-type
export type DoorHandler = (event: any, context: Context, callback: () => void) => Promise<AnyResult> | void;

const FIXTURES = path.join(__dirname, '..', '..', 'fixtures', 'lambda-events');
const SAMPLE_FILE: Record<Door, string> = {
  httpApi: 'http-api-v2.json',
  functionUrl: 'function-url.json',
  restApi: 'rest-api-v1.json',
  alb: 'alb.json',
  albMultiValue: 'alb-multi-value.json',
};

/** AWS's documented sample event of a door (a fresh copy). */
export function sampleEvent(door: Door): any {
  return JSON.parse(readFileSync(path.join(FIXTURES, SAMPLE_FILE[door]), 'utf8'));
}

/** Query string pairs as sent (not decoded). */
function rawPairs(query: string): Array<[string, string]> {
  if (query === '') return [];
  return query.split('&').map((pair) => {
    const at = pair.indexOf('=');
    return at < 0 ? [pair, ''] : [pair.slice(0, at), pair.slice(at + 1)];
  });
}

function grouped(pairs: Array<[string, string]>): Record<string, string[]> {
  const groups: Record<string, string[]> = {};
  for (const [name, value] of pairs) (groups[name] ??= []).push(value);
  return groups;
}

const lastOf = (groups: Record<string, string[]>) =>
  Object.fromEntries(Object.entries(groups).map(([k, v]) => [k, v[v.length - 1]!]));
const listOf = (value: string | string[]) => (Array.isArray(value) ? value : [value]);

/**
 * The request as `door` delivers it: its documented sample with the request's own parts replaced,
 * each as that door sends them.
 * - payload 2.0: lower-case header names, repeated headers joined with commas, cookies moved to
 *   `cookies`, the raw query string and its parameters joined with commas;
 * - REST API: header names as sent, `headers` with the last value and `multiValueHeaders` with all,
 *   query parameters decoded (`+` a space), null when there are none; `body` null when empty;
 * - ALB: lower-case header names, query parameters as sent (not decoded), `body` '' when empty;
 *   with multi-value headers on, only the `multiValue*` fields.
 */
export function doorEvent(door: Door, init: EventInit): AnyEvent {
  const method = init.method ?? 'POST';
  const requestPath = init.path ?? '/graphql';
  const query = init.query ?? '';
  const body =
    init.body === undefined ? undefined : init.base64 ? Buffer.from(init.body).toString('base64') : init.body;
  const base64 = (init.base64 ?? false) && body !== undefined;
  const sent = Object.entries(init.headers ?? {});
  const event = sampleEvent(door);
  if (door === 'httpApi' || door === 'functionUrl') {
    const lower = sent.map(([k, v]) => [k.toLowerCase(), listOf(v)] as const);
    const cookies = lower.filter(([k]) => k === 'cookie').flatMap(([, v]) => v.flatMap((c) => c.split(/;\s*/)));
    const pairs = grouped(rawPairs(query).map(([k, v]) => [decodeURIComponent(k), decodeURIComponent(v)]));
    Object.assign(event, {
      rawPath: requestPath,
      rawQueryString: query,
      headers: Object.fromEntries(lower.filter(([k]) => k !== 'cookie').map(([k, v]) => [k, v.join(',')])),
      queryStringParameters:
        query === '' ? undefined : Object.fromEntries(Object.entries(pairs).map(([k, v]) => [k, v.join(',')])),
      body,
      isBase64Encoded: base64,
      pathParameters: undefined,
    });
    if (cookies.length > 0) event.cookies = cookies;
    else delete event.cookies;
    event.requestContext.http = { ...event.requestContext.http, method, path: requestPath };
    return event;
  }
  if (door === 'restApi') {
    // API Gateway decodes query parameters as a form does (`+` is a space).
    const pairs = grouped([...new URLSearchParams(query)]);
    const multi = Object.fromEntries(sent.map(([k, v]) => [k, listOf(v)]));
    Object.assign(event, {
      resource: requestPath,
      path: requestPath,
      httpMethod: method,
      headers: lastOf(multi),
      multiValueHeaders: multi,
      queryStringParameters: query === '' ? null : lastOf(pairs),
      multiValueQueryStringParameters: query === '' ? null : pairs,
      body: body ?? null,
      isBase64Encoded: base64,
    });
    Object.assign(event.requestContext, { httpMethod: method, path: requestPath, resourcePath: requestPath });
    return event;
  }
  const multi = Object.fromEntries(sent.map(([k, v]) => [k.toLowerCase(), listOf(v)]));
  const pairs = grouped(rawPairs(query));
  Object.assign(event, { httpMethod: method, path: requestPath, body: body ?? '', isBase64Encoded: base64 });
  if (door === 'albMultiValue')
    Object.assign(event, { multiValueHeaders: multi, multiValueQueryStringParameters: pairs });
  else Object.assign(event, { headers: lastOf(multi), queryStringParameters: lastOf(pairs) });
  return event;
}

/** A result's headers, one value per name (multi-value results joined), names in lower case. */
export function resultHeaders(result: AnyResult): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(result.headers ?? {})) headers[k.toLowerCase()] = String(v);
  for (const [k, v] of Object.entries((result as APIGatewayProxyResult).multiValueHeaders ?? {}))
    headers[k.toLowerCase()] = v.map(String).join(', ');
  return headers;
}

/** A result's body as text (decoding base64 results). */
export function resultText(result: AnyResult): string {
  return result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64').toString('utf8') : (result.body ?? '');
}

/** An event shaped like API Gateway's: lower-case header names, raw path and query. */
export function v2Event(init: EventInit): APIGatewayProxyEventV2 {
  const method = init.method ?? 'POST';
  const path = init.path ?? '/graphql';
  const headers = Object.fromEntries(
    Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), listOf(v).join(',')]),
  );
  const body =
    init.body === undefined ? undefined : init.base64 ? Buffer.from(init.body).toString('base64') : init.body;
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: init.query ?? '',
    headers,
    requestContext: {
      accountId: '123456789012',
      apiId: 'api',
      domainName: 'api.example.com',
      domainPrefix: 'api',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'jest' },
      requestId: 'req',
      routeKey: '$default',
      stage: '$default',
      time: '24/Nov/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    body,
    isBase64Encoded: init.base64 ?? false,
  };
}

export const lambdaContext = { functionName: 'qa-api', awsRequestId: 'req' } as Context;

export async function invoke(handler: V2Handler, init: EventInit): Promise<APIGatewayProxyStructuredResultV2> {
  const result = await handler(v2Event(init), lambdaContext, () => undefined);
  if (!result) throw new Error('the handler returned nothing');
  return result;
}

/** Parses a result's JSON body (decoding base64 results). */
export function jsonOf(result: AnyResult): any {
  return JSON.parse(resultText(result));
}

/**
 * A node:http server that forwards each request to a Lambda handler as an event of `door`, as the
 * @as-integrations/aws-lambda repository's own tests do (optionally base64-encoding bodies, as
 * the doors do for binary media types).
 */
export async function loopbackServer(
  handler: DoorHandler,
  base64: boolean,
  door: Door = 'httpApi',
): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    // The handler catches its own failures (a 599 below); nothing is left to reject.
    // eslint-disable-next-line @typescript-eslint/no-misused-promises
    req.on('end', async () => {
      // Split by hand: `new URL('//', base)` throws, and clients do send paths like `//`.
      const [pathname = '/', search = ''] = (req.url ?? '/').split(/\?(.*)/s);
      const headers: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(req.headersDistinct)) if (v !== undefined) headers[k] = v;
      const raw = Buffer.concat(chunks).toString('utf8');
      const event = doorEvent(door, {
        method: req.method,
        path: pathname,
        query: search,
        headers,
        body: raw === '' ? undefined : raw,
        base64: base64 && raw !== '',
      });
      let result: AnyResult;
      try {
        result = (await handler(event, lambdaContext, () => undefined))!;
      } catch (error) {
        // A handler must never throw; make it a visible failure rather than a hung request.
        res.statusCode = 599;
        res.end(String(error));
        return;
      }
      res.statusCode = result.statusCode ?? 200;
      for (const [k, v] of Object.entries(resultHeaders(result))) res.setHeader(k, v);
      res.end(result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64') : (result.body ?? ''));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
