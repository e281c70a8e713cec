/**
 * The events of every front door AWS puts before a Lambda API ↔ the request core's request and
 * response. Pure: no I/O, no Apollo execution. Which door sent an event is read from its shape:
 *
 * | door                                  | event shape                    | result shape            |
 * |---------------------------------------|--------------------------------|-------------------------|
 * | API Gateway HTTP API (payload 2.0)    | `version: '2.0'`, `requestContext.http` | statusCode, headers, body |
 * | Lambda function URL                   | the same as payload 2.0        | the same                |
 * | API Gateway REST API (payload 1.0)    | `httpMethod`, `path`, `requestContext` | + multiValueHeaders when sent |
 * | Application Load Balancer             | `httpMethod`, `path`, `requestContext.elb` | + statusDescription; multiValueHeaders when enabled |
 *
 * The method and headers come from @as-integrations/aws-lambda's request handler for the shape
 * (its `fromEvent`), and so does the payload 2.0 query string. What its handlers get wrong or
 * leave out is done here, each checked against them in test/api/lambda-doors.test.ts:
 * - the body: `fromEvent` JSON-parses it before any size limit, with the parser's message (which
 *   quotes the body) as its error. The request core parses bodies (src/server/http-body.ts), so
 *   the event reaches `fromEvent` without one and the body is only base64-decoded here;
 * - payload 1.0 query strings: API Gateway has already decoded the values and the handler decodes
 *   them again (`100%` throws, `%2B` becomes `+`); ALB's values arrive as sent, and decoding
 *   them leaves a form-encoded `+` as a plus instead of a space;
 * - `multiValueHeaders` (REST API; ALB with multi-value headers on sends no `headers` at all) and
 *   payload 2.0's `cookies`, which its handlers ignore;
 * - the path (the core serves the IDE's files by path), and every result: its success result adds
 *   a Content-Length to 204 and 304, has no `isBase64Encoded` (the IDE's gzipped files),
 *   `statusDescription` (ALB) or `multiValueHeaders`.
 * An event of no known shape, or with a field of the wrong type (no door sends one, but anyone
 * allowed to invoke the function can), is refused with a coded 400 instead of being guessed at.
 */
import type * as Http from 'node:http';
import { handlers } from '@as-integrations/aws-lambda';
import type {
  ALBEvent,
  ALBResult,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  APIGatewayProxyResult,
  APIGatewayProxyStructuredResultV2,
} from 'aws-lambda';
import { ErrorCode, HttpRequestError } from '../api/errors';
import type { CoreRequest, CoreResponse } from './request-core';

/** Which door an event came through; a function URL sends payload 2.0, so it is `httpApi` here. */
export type EventShape = 'httpApi' | 'restApi' | 'alb';

export type LambdaResult = APIGatewayProxyStructuredResultV2 | APIGatewayProxyResult | ALBResult;

/** What an event says about its request, less what the invocation adds (id, time limit). */
export type EventRequest = Omit<CoreRequest, 'requestId' | 'timeLimitMs' | 'signal'>;

export interface MappedEvent {
  shape: EventShape;
  request: EventRequest;
  /** The front door's own id for the request (API Gateway's request id, ALB's trace id). */
  correlationId?: string;
  /** The result must carry its headers as `multiValueHeaders` (the request did). */
  multiValueHeaders: boolean;
}

export const UNKNOWN_EVENT_MESSAGE =
  'The function received an event it does not know: it answers HTTP requests from an API Gateway HTTP API or REST API, a function URL or an Application Load Balancer.';

const v2Handler = handlers.createAPIGatewayProxyEventV2RequestHandler();
const v1Handler = handlers.createAPIGatewayProxyEventRequestHandler();
const albHandler = handlers.createALBEventRequestHandler();

type Json = Record<string, unknown>;

const isRecord = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);
const absent = (value: unknown): value is null | undefined => value === undefined || value === null;
const isStringRecord = (value: unknown): boolean =>
  absent(value) || (isRecord(value) && Object.values(value).every((v) => v === undefined || typeof v === 'string'));
const isStringList = (value: unknown): boolean => Array.isArray(value) && value.every((v) => typeof v === 'string');
const isListRecord = (value: unknown): boolean =>
  absent(value) || (isRecord(value) && Object.values(value).every((v) => v === undefined || isStringList(v)));

/** The fields every shape shares, with the types a door sends. */
function hasCommonFields(event: Json): boolean {
  return (
    isStringRecord(event.headers) &&
    (absent(event.body) || typeof event.body === 'string') &&
    (event.isBase64Encoded === undefined || typeof event.isBase64Encoded === 'boolean')
  );
}

/** The door `event` came through, or null when it is not an HTTP event of a known shape. */
export function shapeOf(event: unknown): EventShape | null {
  if (!isRecord(event) || !isRecord(event.requestContext) || !hasCommonFields(event)) return null;
  const context = event.requestContext;
  if (event.version === '2.0') {
    const ok =
      isRecord(context.http) &&
      typeof context.http.method === 'string' &&
      typeof event.rawPath === 'string' &&
      (event.rawQueryString === undefined || typeof event.rawQueryString === 'string') &&
      (event.cookies === undefined || isStringList(event.cookies));
    return ok ? 'httpApi' : null;
  }
  const ok =
    typeof event.httpMethod === 'string' &&
    typeof event.path === 'string' &&
    isListRecord(event.multiValueHeaders) &&
    isStringRecord(event.queryStringParameters) &&
    isListRecord(event.multiValueQueryStringParameters);
  if (!ok) return null;
  return isRecord(context.elb) ? 'alb' : 'restApi';
}

/** Decodes the event's body (the doors base64-encode bodies they consider binary). */
function bodyOf(event: { body?: string | null; isBase64Encoded?: boolean }): Buffer | string {
  if (!event.body) return '';
  return event.isBase64Encoded ? Buffer.from(event.body, 'base64') : event.body;
}

/**
 * One value per header name, as HTTP/1.1 combines repeated fields: `multiValueHeaders` (every
 * value) over `headers` (REST API puts the last value there), cookies joined as a Cookie header is.
 */
function combinedHeaders(
  single: Record<string, string | undefined> | null | undefined,
  multi: Record<string, string[] | undefined> | null | undefined,
) {
  const combined: Record<string, string> = {};
  for (const [name, value] of Object.entries(single ?? {}))
    if (value !== undefined) combined[name.toLowerCase()] = value;
  for (const [name, values] of Object.entries(multi ?? {})) {
    if (values === undefined || values.length === 0) continue;
    const key = name.toLowerCase();
    combined[key] = values.join(key === 'cookie' ? '; ' : ', ');
  }
  return combined;
}

/** REST API query parameters, already decoded by API Gateway: encoded once, here. */
function restApiSearch(event: APIGatewayProxyEvent): string {
  const params = new URLSearchParams();
  const multi = event.multiValueQueryStringParameters;
  if (multi) {
    for (const [name, values] of Object.entries(multi)) for (const value of values ?? []) params.append(name, value);
  } else {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {}))
      if (value !== undefined) params.append(name, value);
  }
  return params.toString();
}

/** ALB query parameters, as the client encoded them: joined back as they came. */
function albSearch(event: ALBEvent): string {
  const pairs: string[] = [];
  const multi = event.multiValueQueryStringParameters;
  if (multi) {
    for (const [name, values] of Object.entries(multi))
      for (const value of values ?? []) pairs.push(`${name}=${value}`);
  } else {
    for (const [name, value] of Object.entries(event.queryStringParameters ?? {}))
      if (value !== undefined) pairs.push(`${name}=${value}`);
  }
  return pairs.join('&');
}

function mapHttpApi(event: APIGatewayProxyEventV2): MappedEvent {
  const headers = combinedHeaders(event.headers, event.cookies?.length ? { cookie: event.cookies } : undefined);
  const mapped = v2Handler.fromEvent({ ...event, headers, body: undefined, isBase64Encoded: false });
  return {
    shape: 'httpApi',
    request: {
      method: mapped.method.toUpperCase(),
      path: event.rawPath,
      search: mapped.search ?? '',
      headers: mapped.headers,
      body: bodyOf(event),
    },
    correlationId: event.requestContext.requestId,
    multiValueHeaders: false,
  };
}

function mapRestApi(event: APIGatewayProxyEvent): MappedEvent {
  const headers = combinedHeaders(event.headers, event.multiValueHeaders);
  const mapped = v1Handler.fromEvent({
    ...event,
    headers,
    body: null,
    multiValueQueryStringParameters: null,
    queryStringParameters: null,
  });
  return {
    shape: 'restApi',
    request: {
      method: mapped.method.toUpperCase(),
      path: event.path,
      search: restApiSearch(event),
      headers: mapped.headers,
      body: bodyOf(event),
    },
    correlationId: event.requestContext.requestId,
    multiValueHeaders: !absent(event.multiValueHeaders),
  };
}

function mapAlb(event: ALBEvent): MappedEvent {
  const headers = combinedHeaders(event.headers, event.multiValueHeaders);
  const mapped = albHandler.fromEvent({
    ...event,
    headers,
    body: null,
    multiValueQueryStringParameters: undefined,
    queryStringParameters: undefined,
  });
  return {
    shape: 'alb',
    request: {
      method: mapped.method.toUpperCase(),
      path: event.path,
      search: albSearch(event),
      headers: mapped.headers,
      body: bodyOf(event),
    },
    correlationId: headers['x-amzn-trace-id'],
    multiValueHeaders: !absent(event.multiValueHeaders),
  };
}

/** The request an event carries, or the 400 to answer an event of no known shape. Never throws. */
export function mapEvent(event: unknown): MappedEvent | { refused: HttpRequestError } {
  const shape = shapeOf(event);
  if (shape === null) return { refused: new HttpRequestError(UNKNOWN_EVENT_MESSAGE, ErrorCode.BAD_REQUEST) };
  if (shape === 'httpApi') return mapHttpApi(event as APIGatewayProxyEventV2);
  if (shape === 'restApi') return mapRestApi(event as APIGatewayProxyEvent);
  return mapAlb(event as ALBEvent);
}

/**
 * A status's reason phrase ("Not Found"), for ALB's statusDescription. node:http is required when
 * an ALB result is built, not imported: in the Lambda's ES module bundle, an `import` from
 * node:http builds that module's ES module facade during INIT, and the facade reads every export,
 * including the lazy ones that load Node's fetch implementation (undici), which nothing here uses.
 */
function reasonPhrase(status: number): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { STATUS_CODES } = require('node:http') as typeof Http;
  return STATUS_CODES[status] ?? '';
}

/**
 * The result of a core response in the door's format: text as is, bytes (the IDE's gzipped
 * files) base64-encoded. `mapped` null (an unknown event) gets the payload 2.0 format, which
 * every door accepts.
 */
export function resultOf(
  mapped: Pick<MappedEvent, 'shape' | 'multiValueHeaders'> | null,
  response: CoreResponse,
): LambdaResult {
  const binary = Buffer.isBuffer(response.body);
  const body = binary ? (response.body as Buffer).toString('base64') : (response.body as string);
  const headerFields = mapped?.multiValueHeaders
    ? {
        multiValueHeaders: Object.fromEntries(Object.entries(response.headers).map(([name, value]) => [name, [value]])),
      }
    : { headers: response.headers };
  const status =
    mapped?.shape === 'alb' ? { statusDescription: `${response.status} ${reasonPhrase(response.status)}`.trim() } : {};
  return { statusCode: response.status, ...status, ...headerFields, body, isBase64Encoded: binary };
}
