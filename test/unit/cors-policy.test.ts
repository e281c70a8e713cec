/**
 * One CORS policy (src/support/cors.json) for the three places that state it: the function's own
 * headers (src/server/cors.ts), the HTTP API's configuration (scripts/serverless/http-api.js) and
 * the client's CSRF header (src/client/client.ts).
 */
import { describe, expect, it } from '@jest/globals';
import { corsHeaders } from '../../src/server/cors';
import { CSRF_HEADER } from '../../src/client/client';

const httpApi = require('../../scripts/serverless/http-api.js') as {
  httpApi(options: {
    resolveVariable: (name: string) => Promise<string | undefined>;
  }): Promise<{ cors?: Record<string, unknown> }>;
};

const ORIGIN = 'https://app.example.com';
const split = (value: string | undefined) => (value ?? '').split(',').map((s) => s.trim());

describe('the CORS policy is stated once', () => {
  it("the gateway's CORS configuration equals the function's preflight answer", async () => {
    const params: Record<string, string> = {
      'param:corsOrigins': ORIGIN,
      'param:jwtIssuer': '',
      'param:jwtAudience': '',
      'param:ide': 'false',
    };
    const { cors } = await httpApi.httpApi({ resolveVariable: async (name) => params[name] });
    const { preflight, headers } = corsHeaders({ method: 'OPTIONS', origin: ORIGIN, requestMethod: 'POST' }, [ORIGIN]);
    expect(preflight).toBe(true);
    expect(cors).toEqual({
      allowedOrigins: [ORIGIN],
      allowedHeaders: split(headers['access-control-allow-headers']),
      allowedMethods: split(headers['access-control-allow-methods']),
      exposedResponseHeaders: split(headers['access-control-expose-headers']),
      maxAge: Number(headers['access-control-max-age']),
    });
  });

  it('the header the client sends for CSRF prevention is one the preflight allows, and one Apollo Server accepts', () => {
    const { headers } = corsHeaders({ method: 'OPTIONS', origin: ORIGIN, requestMethod: 'GET' }, [ORIGIN]);
    const sent = Object.keys(CSRF_HEADER);
    expect(sent).toHaveLength(1);
    expect(split(headers['access-control-allow-headers'])).toContain(sent[0]);
    // Apollo Server's csrfPrevention default: a GET must carry one of these headers.
    expect(['x-apollo-operation-name', 'apollo-require-preflight']).toContain(sent[0]);
  });
});

describe('Vary: Origin wherever the headers depend on the Origin', () => {
  // A shared cache must not hand a response made for one Origin (or for none) to another request.
  it.each([[[ORIGIN]], [['*']]])(
    'allow-list %j: every response that differs by Origin says Vary: Origin',
    (allowed) => {
      const withOrigin = corsHeaders({ method: 'GET', origin: ORIGIN }, allowed);
      const without = corsHeaders({ method: 'GET', origin: undefined }, allowed);
      expect(withOrigin.headers).not.toEqual(without.headers);
      for (const { headers } of [withOrigin, without]) expect(split(headers.vary)).toContain('Origin');
    },
  );

  it('no allow-list: no CORS headers, nothing varies', () => {
    expect(corsHeaders({ method: 'GET', origin: ORIGIN }, []).headers).toEqual({});
  });
});
