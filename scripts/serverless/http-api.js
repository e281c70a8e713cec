/**
 * The security parts of serverless.yml's HTTP API that plain YAML variables cannot express: a
 * list of CORS origins from one comma-separated parameter, and a JWT authorizer that exists (and
 * guards the routes) only when its parameters are given. Read by osls through
 * `${file(./scripts/serverless/http-api.js):<name>}`; never packaged.
 *
 * Parameters (`--param=name=value`, or per stage under `params` in serverless.yml):
 *   corsOrigins   comma-separated origins allowed by browsers (https://app.example.com,...), or *;
 *                 empty (default): no CORS, so browsers only allow same-origin pages
 *   jwtIssuer     issuer URL of a JWT authorizer (e.g. https://cognito-idp.<region>.amazonaws.com/<pool>);
 *                 empty (default): no authorizer, the API is public
 *   jwtAudience   comma-separated audiences (app client ids); required with jwtIssuer
 */
'use strict';

// The API's own CORS policy (src/server/cors.ts reads the same file), so gateway and function agree.
const CORS_POLICY = require('../../src/support/cors.json');

function list(value) {
  return String(value ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

async function params(resolveVariable) {
  return {
    corsOrigins: list(await resolveVariable('param:corsOrigins')),
    jwtIssuer: String((await resolveVariable('param:jwtIssuer')) ?? '').trim(),
    jwtAudience: list(await resolveVariable('param:jwtAudience')),
    ide: String(await resolveVariable('param:ide')) === 'true',
  };
}

function checkJwt(p) {
  if (p.jwtIssuer === '') return false;
  if (!/^https:\/\/\S+$/.test(p.jwtIssuer)) throw new Error(`jwtIssuer must be an https URL, got "${p.jwtIssuer}"`);
  if (p.jwtAudience.length === 0)
    throw new Error('jwtAudience is required with jwtIssuer (the app client ids tokens are issued for)');
  return true;
}

module.exports = {
  /** provider.httpApi: CORS (API Gateway answers preflights itself) and the optional authorizer. */
  httpApi: async ({ resolveVariable }) => {
    const p = await params(resolveVariable);
    const config = {};
    if (p.corsOrigins.length > 0) {
      config.cors = {
        allowedOrigins: p.corsOrigins,
        allowedHeaders: CORS_POLICY.allowedHeaders,
        allowedMethods: CORS_POLICY.allowedMethods,
        exposedResponseHeaders: CORS_POLICY.exposedHeaders,
        maxAge: CORS_POLICY.maxAgeSeconds,
      };
    }
    if (checkJwt(p)) {
      config.authorizers = {
        jwt: { identitySource: '$request.header.Authorization', issuerUrl: p.jwtIssuer, audience: p.jwtAudience },
      };
    }
    return config;
  },

  /** The function's routes: POST and GET /graphql, GET /ide/{file} with the IDE; all behind the authorizer when on. */
  routes: async ({ resolveVariable }) => {
    const p = await params(resolveVariable);
    const auth = checkJwt(p) ? { authorizer: { name: 'jwt' } } : {};
    const routes = [
      { method: 'POST', path: '/graphql' },
      { method: 'GET', path: '/graphql' },
      // The IDE's files are static and public even with the authorizer: the page must load before
      // a user can paste a token into its headers pane.
      ...(p.ide ? [{ method: 'GET', path: '/ide/{file}', public: true }] : []),
    ];
    return routes.map(({ public: open, ...route }) => ({ httpApi: { ...route, ...(open ? {} : auth) } }));
  },
};
