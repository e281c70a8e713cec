/**
 * Every front door of a Lambda API through one handler: the same GraphQL request gets the same
 * answer from an API Gateway HTTP API, a function URL, a REST API and an ALB (with and without
 * multi-value headers) as from the local server; each result has its door's format; and any JSON
 * value as an event gets a response (a coded 400 for a shape no door sends), never a throw.
 * Events are AWS's documented samples (test/fixtures/lambda-events/) with the request replaced.
 */
import { handlers } from '@as-integrations/aws-lambda';
import type {
  ALBEvent,
  APIGatewayProxyEvent,
  APIGatewayProxyEventV2,
  ALBResult,
  APIGatewayProxyResult,
} from 'aws-lambda';
import { createApi, type Api } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { createApiLambdaHandler } from '../../src/server/lambda';
import { mapEvent, shapeOf, UNKNOWN_EVENT_MESSAGE, type MappedEvent } from '../../src/server/lambda-events';
import { listen, type RunningServer } from '../../src/local-server';
import { fixedModel, loadTinyModel, type TinyModel } from './helpers/engines';
import {
  DOORS,
  doorEvent,
  lambdaContext,
  resultHeaders,
  resultText,
  sampleEvent,
  type AnyResult,
  type Door,
  type DoorHandler,
  type EventInit,
} from './helpers/lambda-events';
import httpApiSample from '../fixtures/lambda-events/http-api-v2.json';
import functionUrlSample from '../fixtures/lambda-events/function-url.json';
import restApiSample from '../fixtures/lambda-events/rest-api-v1.json';
import albSample from '../fixtures/lambda-events/alb.json';
import albMultiValueSample from '../fixtures/lambda-events/alb-multi-value.json';

const QUERY = `query($q: String!, $c: String!) {
  answers(question: $q, context: $c, topK: 3) { text score start end }
}`;
// A percent sign, a plus and non-ASCII text: what query-string decoding gets wrong.
const VARIABLES = {
  q: 'What fell 50% + 1?',
  c: 'In 2019 the price of Café Ünïcode crêpes fell 50% + 1 cent; 抹茶 stayed the same until midnight.',
};
const JSON_BODY = JSON.stringify({ query: QUERY, variables: VARIABLES });
/** A GET as a browser form would send it (spaces as `+`), with the CSRF header Apollo wants. */
const GET_QUERY = new URLSearchParams({ query: QUERY, variables: JSON.stringify(VARIABLES) }).toString();

let tiny: TinyModel;
let api: Api;
let handler: DoorHandler;
let local: RunningServer;

beforeAll(async () => {
  tiny = await loadTinyModel();
  api = createApi({ config: apiConfig(), provider: fixedModel(tiny.engine, tiny.info), ideAssetsDir: null });
  handler = createApiLambdaHandler(api) as unknown as DoorHandler;
  local = await listen(
    createApi({ config: apiConfig(), provider: fixedModel(tiny.engine, tiny.info), ideAssetsDir: null }),
    {
      port: 0,
      host: '127.0.0.1',
    },
  );
});
afterAll(async () => {
  await local.close();
  await api.server.stop();
});

async function call(event: unknown): Promise<AnyResult> {
  const result = await handler(event, lambdaContext, () => undefined);
  if (!result) throw new Error('the handler returned nothing');
  return result;
}

const through = (door: Door, init: EventInit) => call(doorEvent(door, init));

describe('the same request gets the same answer through every door', () => {
  let expected: unknown;
  beforeAll(async () => {
    const res = await fetch(local.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON_BODY,
    });
    expect(res.status).toBe(200);
    expected = await res.json();
    expect(expected).toEqual({
      data: {
        answers: await tiny.engine.answer({ question: VARIABLES.q, context: VARIABLES.c, options: { topK: 3 } }),
      },
    });
  });

  test.each(
    DOORS.flatMap(
      (door) =>
        [
          [door, false],
          [door, true],
        ] as Array<[Door, boolean]>,
    ),
  )('%s, POST, base64 body: %s', async (door, base64) => {
    const result = await through(door, { headers: { 'Content-Type': 'application/json' }, body: JSON_BODY, base64 });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(resultText(result))).toEqual(expected);
  });

  test.each(DOORS)('%s, GET with the query in a form-encoded query string', async (door) => {
    const result = await through(door, {
      method: 'GET',
      query: GET_QUERY,
      headers: { 'apollo-require-preflight': 'true' },
    });
    expect(result.statusCode).toBe(200);
    expect(JSON.parse(resultText(result))).toEqual(expected);
  });
});

describe("each door's result format", () => {
  const post: EventInit = {
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ query: '{ __typename }' }),
  };

  test('ALB: statusDescription, and multiValueHeaders exactly when the target group has them on', async () => {
    const single = (await through('alb', post)) as ALBResult;
    expect(single).toMatchObject({ statusCode: 200, statusDescription: '200 OK', isBase64Encoded: false });
    expect(single.headers?.['content-type']).toMatch(/^application\/json/);
    expect(single.multiValueHeaders).toBeUndefined();
    const multi = (await through('albMultiValue', post)) as ALBResult;
    expect(multi).toMatchObject({ statusCode: 200, statusDescription: '200 OK', isBase64Encoded: false });
    expect(multi.headers).toBeUndefined();
    expect(multi.multiValueHeaders?.['content-type']).toEqual([expect.stringMatching(/^application\/json/)]);
    const refused = (await through('alb', { ...post, body: '{' })) as ALBResult;
    expect(refused).toMatchObject({ statusCode: 400, statusDescription: '400 Bad Request' });
  });

  test('REST API: multiValueHeaders, as the request had them; HTTP API and function URL: headers', async () => {
    const rest = (await through('restApi', post)) as APIGatewayProxyResult;
    expect(rest.multiValueHeaders?.['x-request-id']).toEqual([lambdaContext.awsRequestId]);
    for (const door of ['httpApi', 'functionUrl'] as const) {
      const result = await through(door, post);
      expect(result.headers?.['x-request-id']).toBe(lambdaContext.awsRequestId);
      expect(result).not.toHaveProperty('multiValueHeaders');
    }
  });
});

describe("AWS's sample events map to the request they describe", () => {
  const mapped = (door: Door): MappedEvent => {
    const outcome = mapEvent(sampleEvent(door));
    if ('refused' in outcome) throw new Error(`${door}: refused`);
    return outcome;
  };

  test.each([
    [
      'httpApi',
      'httpApi',
      'POST',
      '/my/path',
      'parameter1=value1&parameter1=value2&parameter2=value',
      'Hello from Lambda',
    ],
    [
      'functionUrl',
      'httpApi',
      'POST',
      '/my/path',
      'parameter1=value1&parameter1=value2&parameter2=value',
      'Hello from client!',
    ],
    [
      'restApi',
      'restApi',
      'GET',
      '/my/path',
      'parameter1=value1&parameter1=value2&parameter2=value',
      'Hello from Lambda!',
    ],
    ['alb', 'alb', 'GET', '/', 'myKey=val2', 'request_body'],
    ['albMultiValue', 'alb', 'GET', '/', 'myKey=val1&myKey=val2', 'request_body'],
  ] as const)('%s', (door, shape, method, path, search, body) => {
    const { shape: found, request } = mapped(door);
    expect({
      shape: found,
      method: request.method,
      path: request.path,
      search: request.search,
      body: request.body,
    }).toEqual({ shape, method, path, search, body });
  });

  test('headers: every value of a repeated header, and payload 2.0 cookies as one Cookie header', () => {
    expect(mapped('httpApi').request.headers.get('cookie')).toBe('cookie1; cookie2');
    expect(mapped('httpApi').request.headers.get('header2')).toBe('value1,value2');
    expect(mapped('restApi').request.headers.get('header2')).toBe('value1, value2');
    expect(mapped('albMultiValue').request.headers.get('cookie')).toBe('name1=value1; name2=value2');
    expect(mapped('alb').request.headers.get('cookie')).toBe('name1=value1');
  });

  test("the door's own request id becomes the log lines' correlation id", () => {
    expect(mapped('httpApi').correlationId).toBe('id');
    expect(mapped('restApi').correlationId).toBe('id=');
    expect(mapped('alb').correlationId).toBe('Root=1-5bdb40ca-556d8b0c50dc66f0511bf520');
  });

  test("the samples type-check as @types/aws-lambda's events", () => {
    // Compile-time (the JSON's own types): a sample that lost a field fails `tsc` here. The
    // payload 2.0 and REST samples are checked on the fields the mapping reads: AWS's samples put
    // null where the types do not allow it (the function URL's `authentication`, REST's `resourceId`).
    type ReadV2 = Pick<
      APIGatewayProxyEventV2,
      'version' | 'rawPath' | 'rawQueryString' | 'cookies' | 'headers' | 'body' | 'isBase64Encoded'
    > & {
      requestContext: Pick<APIGatewayProxyEventV2['requestContext'], 'http' | 'requestId'>;
    };
    type ReadV1 = Pick<
      APIGatewayProxyEvent,
      | 'httpMethod'
      | 'path'
      | 'headers'
      | 'multiValueHeaders'
      | 'queryStringParameters'
      | 'multiValueQueryStringParameters'
      | 'body'
      | 'isBase64Encoded'
    > & { requestContext: Pick<APIGatewayProxyEvent['requestContext'], 'requestId'> };
    const v2: APIGatewayProxyEventV2 = httpApiSample;
    const url: ReadV2 = functionUrlSample;
    const v1: ReadV1 = restApiSample;
    const alb: ALBEvent = albSample;
    const albMulti: ALBEvent = albMultiValueSample;
    expect([v2, url, v1, alb, albMulti].map(shapeOf)).toEqual(['httpApi', 'httpApi', 'restApi', 'alb', 'alb']);
  });
});

describe("where the integration's own mapping is not used, and why", () => {
  test('REST API: it decodes query values API Gateway already decoded (a `%` throws)', () => {
    const event = doorEvent('restApi', { method: 'GET', query: 'q=50%25' }) as APIGatewayProxyEvent;
    expect(event.multiValueQueryStringParameters).toEqual({ q: ['50%'] });
    expect(() => handlers.createAPIGatewayProxyEventRequestHandler().fromEvent(event)).toThrow(URIError);
    expect((mapEvent(event) as MappedEvent).request.search).toBe('q=50%25');
  });

  test('ALB: it leaves a form-encoded `+` a plus', () => {
    const event = doorEvent('alb', { method: 'GET', query: 'q=a+b' }) as ALBEvent;
    expect(new URLSearchParams(handlers.createALBEventRequestHandler().fromEvent(event).search).get('q')).toBe('a+b');
    expect(new URLSearchParams((mapEvent(event) as MappedEvent).request.search).get('q')).toBe('a b');
  });

  test('ALB with multi-value headers: it reads no header at all', () => {
    const event = doorEvent('albMultiValue', {
      headers: { 'content-type': 'application/json' },
      body: '{}',
    }) as ALBEvent;
    expect(handlers.createALBEventRequestHandler().fromEvent(event).headers.get('content-type')).toBeUndefined();
    expect((mapEvent(event) as MappedEvent).request.headers.get('content-type')).toBe('application/json');
  });

  test('every door: it JSON-parses the body, and its error quotes it', () => {
    const event = doorEvent('httpApi', {
      headers: { 'content-type': 'application/json' },
      body: 'my secret',
    }) as APIGatewayProxyEventV2;
    expect(() => handlers.createAPIGatewayProxyEventV2RequestHandler().fromEvent(event)).toThrow(/my secret/);
    expect((mapEvent(event) as MappedEvent).request.body).toBe('my secret');
  });
});

describe('any JSON value as an event gets a response, never a throw', () => {
  const v2 = () => sampleEvent('httpApi');
  const v1 = () => sampleEvent('restApi');
  const CASES: Array<[string, unknown]> = [
    ['null', null],
    ['a number', 42],
    ['a string', 'POST /graphql'],
    ['true', true],
    ['an array', [doorEvent('httpApi', {})]],
    ['an empty object', {}],
    ['an object with only a requestContext', { requestContext: {} }],
    ['payload 2.0 without requestContext.http', { ...v2(), requestContext: { requestId: 'x' } }],
    ['payload 2.0 with a numeric body', { ...v2(), body: 42 }],
    ['payload 2.0 with an object body', { ...v2(), body: { query: '{ __typename }' } }],
    ['payload 2.0 with a numeric content-type header', { ...v2(), headers: { 'content-type': 5 } }],
    ['payload 2.0 with headers as a list', { ...v2(), headers: ['content-type', 'application/json'] }],
    ['payload 2.0 with a numeric method', { ...v2(), requestContext: { ...v2().requestContext, http: { method: 1 } } }],
    ['payload 2.0 with cookies as a string', { ...v2(), cookies: 'a=b' }],
    ['payload 2.0 with isBase64Encoded as a string', { ...v2(), isBase64Encoded: 'true' }],
    ['REST API with a numeric path', { ...v1(), path: 7 }],
    ['REST API with multiValueHeaders of strings', { ...v1(), multiValueHeaders: { accept: '*/*' } }],
    ['REST API with a query parameter of a number', { ...v1(), queryStringParameters: { q: 1 } }],
    ['an S3 notification', { Records: [{ eventSource: 'aws:s3' }] }],
  ];

  test.each(CASES)('%s: 400 BAD_REQUEST, with the request id', async (_name, event) => {
    const result = await call(event);
    expect(result.statusCode).toBe(400);
    expect(JSON.parse(resultText(result))).toEqual({
      errors: [{ message: UNKNOWN_EVENT_MESSAGE, extensions: { code: 'BAD_REQUEST' } }],
    });
    expect(resultHeaders(result)['x-request-id']).toBe(lambdaContext.awsRequestId);
  });

  test('a failure in the adapter itself (here, a context whose clock throws) is a masked 500, not a throw', async () => {
    const context = {
      ...lambdaContext,
      getRemainingTimeInMillis: () => {
        throw new Error('clock stopped at /secret/path');
      },
    };
    const result = await handler(doorEvent('restApi', {}), context, () => undefined);
    expect(result).toMatchObject({
      statusCode: 500,
      multiValueHeaders: { 'content-type': [expect.stringMatching(/^application\/json/)] },
    });
    expect(JSON.parse(resultText(result!))).toEqual({
      errors: [{ message: 'Internal server error', extensions: { code: 'INTERNAL_SERVER_ERROR' } }],
    });
  });

  test("a context whose clock is not a number: the API's own timeout applies, the request is answered", async () => {
    const context = { ...lambdaContext, getRemainingTimeInMillis: () => 'soon' as unknown as number };
    const result = await handler(
      doorEvent('httpApi', { headers: { 'content-type': 'application/json' }, body: JSON_BODY }),
      context,
      () => undefined,
    );
    expect(result!.statusCode).toBe(200);
    expect(JSON.parse(resultText(result!)).data.answers.length).toBeGreaterThan(0);
  });

  test('and the next request is answered', async () => {
    await call(null);
    const result = await through('restApi', {
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ __typename }' }),
    });
    expect(JSON.parse(resultText(result))).toEqual({ data: { __typename: 'Query' } });
  });
});
