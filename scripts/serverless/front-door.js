/**
 * The front door the function is deployed behind, chosen by one parameter, with its containment.
 * The function answers every door's events (src/server/lambda-events.ts); this file chooses what
 * the template creates. Read by osls through `${file(./scripts/serverless/front-door.js):<name>}`;
 * never packaged. docs/deploy.md ("Front doors") says which to choose.
 *
 * Parameters (`--param=name=value`, or per stage under `params` in serverless.yml):
 *   frontDoor     httpApi (default): API Gateway HTTP API, payload 2.0; the stage's throttling
 *                 (throttleRate, throttleBurst), CORS and the optional JWT authorizer
 *                 (scripts/serverless/http-api.js).
 *                 restApi: API Gateway REST API, payload 1.0; GraphQL needs an API key
 *                 (`x-api-key`), each key in one usage plan with a quota and a throttle; the
 *                 stage's throttling from throttleRate, throttleBurst (rest-api-stage.js).
 *                 functionUrl: a Lambda function URL; no gateway, so no throttling: the reserved
 *                 concurrency is the bound, and the auth type says who may call.
 *   apiKeys       restApi: comma-separated names of the API keys to create (AWS generates their
 *                 values), default `default`
 *   apiKeyQuota, apiKeyQuotaPeriod  restApi: requests each key may send per DAY, WEEK or MONTH
 *                 (default 100000 per MONTH); `none` leaves the quota out
 *   apiKeyThrottleRate, apiKeyThrottleBurst  restApi: each key's steady requests per second and
 *                 burst, integers (default 10 and 5); `none` leaves either out
 *   functionUrlAuth  functionUrl: AWS_IAM (default: SigV4-signed requests from principals with
 *                 lambda:InvokeFunctionUrl) or NONE (public). NONE with reservedConcurrency=none
 *                 is refused: nothing would bound what anyone can spend.
 */
'use strict';

const httpApi = require('./http-api');
const { limit } = require('./containment');

const DOORS = ['httpApi', 'restApi', 'functionUrl'];
const QUOTA_PERIODS = ['DAY', 'WEEK', 'MONTH'];
const URL_AUTH = ['AWS_IAM', 'NONE'];
// The API's own CORS policy (src/server/cors.ts reads the same file), so gateway and function agree.
const CORS_POLICY = require('../../src/support/cors.json');

async function text(resolveVariable, name) {
  return String((await resolveVariable(`param:${name}`)) ?? '').trim();
}

async function frontDoor(resolveVariable) {
  const door = await text(resolveVariable, 'frontDoor');
  if (!DOORS.includes(door)) throw new Error(`frontDoor must be one of ${DOORS.join(', ')}, got "${door}"`);
  if (door !== 'httpApi' && (await text(resolveVariable, 'jwtIssuer')) !== '') {
    throw new Error(
      `jwtIssuer is an HTTP API authorizer: use it with frontDoor=httpApi (frontDoor=${door} has ${door === 'restApi' ? 'API keys' : 'functionUrlAuth'})`,
    );
  }
  return door;
}

function list(value) {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

module.exports = {
  frontDoor: async ({ resolveVariable }) => frontDoor(resolveVariable),

  /** functions.api.events: the door's routes (none for a function URL). */
  events: async (options) => {
    const { resolveVariable } = options;
    const door = await frontDoor(resolveVariable);
    if (door === 'httpApi') return httpApi.routes(options);
    if (door === 'functionUrl') return [];
    const origins = list(await text(resolveVariable, 'corsOrigins'));
    const ide = (await text(resolveVariable, 'ide')) === 'true';
    // API Gateway answers preflights itself (they carry no API key), allowing the key's header
    // too; the function adds the CORS headers of real responses (API_CORS_ORIGINS).
    const headers = [...CORS_POLICY.allowedHeaders, 'x-api-key'];
    const cors = origins.length > 0 ? { cors: { origins, headers, maxAge: CORS_POLICY.maxAgeSeconds } } : {};
    return [
      { http: { method: 'post', path: 'graphql', private: true, ...cors } },
      { http: { method: 'get', path: 'graphql', private: true, ...cors } },
      // The IDE's files are public: a browser loads the page before a key can be typed into it.
      ...(ide ? [{ http: { method: 'get', path: 'ide/{file}' } }] : []),
    ];
  },

  /** provider.apiGateway: for restApi, the API keys and their usage plan; null otherwise. */
  apiGateway: async ({ resolveVariable }) => {
    if ((await frontDoor(resolveVariable)) !== 'restApi') return null;
    const keys = list(await text(resolveVariable, 'apiKeys'));
    if (keys.length === 0)
      throw new Error(
        'apiKeys must name at least one API key with frontDoor=restApi (every GraphQL request needs one)',
      );
    const quota = await limit(resolveVariable, 'apiKeyQuota', { integer: true });
    const period = (await text(resolveVariable, 'apiKeyQuotaPeriod')).toUpperCase();
    if (quota !== null && !QUOTA_PERIODS.includes(period))
      throw new Error(`apiKeyQuotaPeriod must be one of ${QUOTA_PERIODS.join(', ')}, got "${period}"`);
    // osls takes whole requests per second here (its schema), unlike the stage's rate.
    const rate = await limit(resolveVariable, 'apiKeyThrottleRate', { integer: true });
    const burst = await limit(resolveVariable, 'apiKeyThrottleBurst', { integer: true });
    const throttle = {
      ...(rate === null ? {} : { rateLimit: rate }),
      ...(burst === null ? {} : { burstLimit: burst }),
    };
    return {
      apiKeys: keys,
      usagePlan: {
        ...(quota === null ? {} : { quota: { limit: quota, period } }),
        ...(Object.keys(throttle).length === 0 ? {} : { throttle }),
      },
    };
  },

  /** functions.api.url: for functionUrl, the URL and its auth type; null otherwise. */
  url: async ({ resolveVariable }) => {
    if ((await frontDoor(resolveVariable)) !== 'functionUrl') return null;
    const auth = (await text(resolveVariable, 'functionUrlAuth')).toUpperCase();
    if (!URL_AUTH.includes(auth)) throw new Error(`functionUrlAuth must be AWS_IAM or NONE, got "${auth}"`);
    if (auth === 'NONE' && (await limit(resolveVariable, 'reservedConcurrency', { integer: true })) === null) {
      throw new Error(
        'functionUrlAuth=NONE with reservedConcurrency=none: a public function URL has no throttling, so the reserved concurrency is the only bound on what anyone can spend',
      );
    }
    return auth === 'AWS_IAM' ? { authorizer: 'aws_iam' } : true;
  },

  /** custom.restApiStageThrottle (rest-api-stage.js): the REST API stage's throttling; {} otherwise. */
  restApiStage: async ({ resolveVariable }) => {
    if ((await frontDoor(resolveVariable)) !== 'restApi') return {};
    const rate = await limit(resolveVariable, 'throttleRate', { integer: false });
    const burst = await limit(resolveVariable, 'throttleBurst', { integer: true });
    return {
      ...(rate === null ? {} : { ThrottlingRateLimit: rate }),
      ...(burst === null ? {} : { ThrottlingBurstLimit: burst }),
    };
  },

  /** resources.extensions: the HTTP API stage's throttling, for httpApi (the stage osls generates). */
  extensions: async (options) => {
    if ((await frontDoor(options.resolveVariable)) !== 'httpApi') return {};
    const containment = require('./containment');
    return { HttpApiStage: { Properties: { DefaultRouteSettings: await containment.defaultRouteSettings(options) } } };
  },
};
