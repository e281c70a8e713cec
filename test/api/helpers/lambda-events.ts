/** API Gateway HTTP API (payload v2) events and a loopback server that turns requests into them. */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2, Context } from 'aws-lambda';

export type V2Handler = (event: APIGatewayProxyEventV2, context: Context, callback: () => void) => Promise<APIGatewayProxyStructuredResultV2> | void;

export interface EventInit {
  method?: string;
  path?: string;
  query?: string;
  headers?: Record<string, string>;
  body?: string;
  base64?: boolean;
}

/** An event shaped like API Gateway's: lower-case header names, raw path and query. */
export function v2Event(init: EventInit): APIGatewayProxyEventV2 {
  const method = init.method ?? 'POST';
  const path = init.path ?? '/graphql';
  const headers = Object.fromEntries(Object.entries(init.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const body = init.body === undefined ? undefined : init.base64 ? Buffer.from(init.body).toString('base64') : init.body;
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
export function jsonOf(result: APIGatewayProxyStructuredResultV2): any {
  const text = result.isBase64Encoded ? Buffer.from(result.body ?? '', 'base64').toString('utf8') : (result.body ?? '');
  return JSON.parse(text);
}

/**
 * A node:http server that forwards each request to a Lambda handler as a v2 event, as the
 * @as-integrations/aws-lambda repository's own tests do (optionally base64-encoding bodies,
 * as API Gateway does for binary media types).
 */
export async function loopbackServer(handler: V2Handler, base64: boolean): Promise<{ url: string; close(): Promise<void> }> {
  const server = http.createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      // Split by hand: `new URL('//', base)` throws, and clients do send paths like `//`.
      const [pathname = '/', search = ''] = (req.url ?? '/').split(/\?(.*)/s);
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(',') : v;
      const raw = Buffer.concat(chunks).toString('utf8');
      const event = v2Event({
        method: req.method,
        path: pathname,
        query: search,
        headers,
        body: raw === '' ? undefined : raw,
        base64: base64 && raw !== '',
      });
      let result: APIGatewayProxyStructuredResultV2;
      try {
        result = (await handler(event, lambdaContext, () => undefined))!;
      } catch (error) {
        // A handler must never throw; make it a visible failure rather than a hung request.
        res.statusCode = 599;
        res.end(String(error));
        return;
      }
      res.statusCode = result.statusCode ?? 200;
      for (const [k, v] of Object.entries(result.headers ?? {})) res.setHeader(k, String(v));
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
