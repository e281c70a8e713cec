/**
 * Containment in the deployment, asserted on the CloudFormation that `osls package` generates
 * (offline, with every AWS credential source removed): the function's reserved concurrency and
 * the HTTP API stage's throttling (defaults, overrides, `none`, refused values), and the posture of
 * a package made without --stage (production: no IDE, no introspection) against `--stage dev`.
 *
 * Only the templates are read: they do not depend on the bundle in dist/lambda/, so no build runs
 * here (package.test.ts checks the artifacts themselves).
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { DEFAULT_STAGE } from '../../scripts/build-lambda';
import { ROOT } from './helpers';
import { templatePackager, type CfnResource, type CfnTemplate } from './templates';
import { DEFAULT_LIMITS, DEFAULT_PRODUCTION_RESPONSE_CACHE_BYTES, loadApiConfig } from '../../src/server/config';

/** The documented defaults (serverless.yml `params.default`, docs/deploy.md "Containment"). */
const DEFAULTS = { reservedConcurrency: 10, throttleRate: 50, throttleBurst: 20 };

const scratch = mkdtempSync(path.join(os.tmpdir(), 'containment-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** No credentials anywhere: environment, ~/.aws (an empty HOME) and the instance metadata service. */
const { osls, packaged } = templatePackager(scratch);

const ofType = (t: CfnTemplate, type: string): CfnResource[] =>
  Object.values(t.Resources).filter((r) => r.Type === type);
const only = (t: CfnTemplate, type: string): CfnResource => {
  const found = ofType(t, type);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const fnOf = (t: CfnTemplate) => only(t, 'AWS::Lambda::Function').Properties;
const stageOf = (t: CfnTemplate) => only(t, 'AWS::ApiGatewayV2::Stage').Properties;
const routesOf = (t: CfnTemplate) =>
  ofType(t, 'AWS::ApiGatewayV2::Route')
    .map((r) => r.Properties.RouteKey)
    .sort();

let noStage: CfnTemplate;
let dev: CfnTemplate;

beforeAll(() => {
  noStage = packaged([]);
  dev = packaged(['--stage', 'dev']);
}, 120_000);

describe('defaults', () => {
  test.each([
    ['no --stage', () => noStage],
    ['--stage dev', () => dev],
  ])('%s: reserved concurrency, and throttling on the stage that serves every route', (_name, template) => {
    const t = template();
    expect(fnOf(t).ReservedConcurrentExecutions).toBe(DEFAULTS.reservedConcurrency);
    const stage = stageOf(t);
    // The `$default` stage of this API (auto-deployed): its DefaultRouteSettings apply to every route.
    expect(stage).toMatchObject({ ApiId: { Ref: 'HttpApi' }, StageName: '$default', AutoDeploy: true });
    expect(stage.DefaultRouteSettings).toEqual({
      DetailedMetricsEnabled: false,
      ThrottlingRateLimit: DEFAULTS.throttleRate,
      ThrottlingBurstLimit: DEFAULTS.throttleBurst,
    });
    expect(only(t, 'AWS::ApiGatewayV2::Api').Properties.ProtocolType).toBe('HTTP');
    for (const route of ofType(t, 'AWS::ApiGatewayV2::Route'))
      expect(route.Properties.ApiId).toEqual({ Ref: 'HttpApi' });
    // No route-level settings that would override the stage's.
    expect(ofType(t, 'AWS::ApiGatewayV2::Stage').flatMap((s) => Object.keys(s.Properties.RouteSettings ?? {}))).toEqual(
      [],
    );
  });

  test('what an attack can spend at most, from the template, is the figure the docs give (deploy.md and its decision record)', () => {
    const fn = fnOf(noStage);
    const gb = fn.MemorySize / 1024;
    // Compute runs in at most ReservedConcurrentExecutions sandboxes, each billed for wall time.
    const gbSecondsPerHour = fn.ReservedConcurrentExecutions * gb * 3600;
    // One request runs at most Timeout seconds.
    const gbSecondsPerRequest = gb * fn.Timeout;
    const { ThrottlingRateLimit: rate, ThrottlingBurstLimit: burst } = stageOf(noStage).DefaultRouteSettings;
    const requestsPerHour = rate * 3600 + burst;
    const docs = ['deploy.md', 'decisions/2026-12-06-containment-defaults.md']
      .map((file) => readFileSync(path.join(ROOT, 'docs', file), 'utf8'))
      .join('\n')
      .replace(/\s+/g, ' ');
    const en = (n: number, digits = 0) =>
      n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
    expect(docs).toContain(`${en(gbSecondsPerHour)} GB-seconds per hour`);
    expect(docs).toContain(`${en(gbSecondsPerRequest, 1)} GB-seconds`);
    expect(docs).toContain(`${en(requestsPerHour)} requests per hour`);
  });
});

describe('the work budget', () => {
  test("defaults to the API's own defaults, and the function reads it from its environment", () => {
    const environment = fnOf(noStage).Environment.Variables;
    const config = loadApiConfig(environment);
    expect(config.limits.maxRequestWindows).toBe(DEFAULT_LIMITS.maxRequestWindows);
    expect(config.limits.maxRequestTextLength).toBe(DEFAULT_LIMITS.maxRequestTextLength);
    expect(environment).toMatchObject({ API_MAX_REQUEST_WINDOWS: '64', API_MAX_REQUEST_TEXT_LENGTH: '100000' });
    // The response cache's size: the production default, stated once in the template.
    expect(config.responseCacheBytes).toBe(DEFAULT_PRODUCTION_RESPONSE_CACHE_BYTES);
  });

  test('parameters change it', () => {
    const t = packaged([], { maxRequestWindows: '24', maxRequestTextLength: '50000', responseCacheBytes: '0' });
    const config = loadApiConfig(fnOf(t).Environment.Variables);
    expect([config.limits.maxRequestWindows, config.limits.maxRequestTextLength, config.responseCacheBytes]).toEqual([
      24, 50_000, 0,
    ]);
  });
});

describe('parameters', () => {
  test('override the defaults', () => {
    const t = packaged(['--stage', 'prod'], { reservedConcurrency: '3', throttleRate: '12.5', throttleBurst: '7' });
    expect(fnOf(t).ReservedConcurrentExecutions).toBe(3);
    expect(stageOf(t).DefaultRouteSettings).toEqual({
      DetailedMetricsEnabled: false,
      ThrottlingRateLimit: 12.5,
      ThrottlingBurstLimit: 7,
    });
  }, 60_000);

  test('`none` leaves each limit out of the template (not 0, which would refuse every request)', () => {
    const t = packaged(['--stage', 'prod'], {
      reservedConcurrency: 'none',
      throttleRate: 'none',
      throttleBurst: 'none',
    });
    const fn = fnOf(t);
    expect(fn).not.toHaveProperty('ReservedConcurrentExecutions');
    // Everything else of the function is still there.
    expect(fn).toMatchObject({ MemorySize: 1769, Timeout: 29, Handler: 'dist/lambda/handler.handler' });
    expect(stageOf(t).DefaultRouteSettings).toEqual({ DetailedMetricsEnabled: false });
    // Only the reservation off: the throttling stays.
    const partial = packaged(['--stage', 'prod'], { reservedConcurrency: 'none' });
    expect(fnOf(partial)).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(stageOf(partial).DefaultRouteSettings).toMatchObject({
      ThrottlingRateLimit: DEFAULTS.throttleRate,
      ThrottlingBurstLimit: DEFAULTS.throttleBurst,
    });
  }, 60_000);

  test.each([
    [{ reservedConcurrency: '0' }, /reservedConcurrency=0 would refuse every request; use reservedConcurrency=none/],
    [{ reservedConcurrency: 'ten' }, /reservedConcurrency must be a positive integer or "none", got "ten"/],
    [{ reservedConcurrency: '2.5' }, /reservedConcurrency must be a positive integer/],
    [{ throttleRate: '0' }, /throttleRate=0 would refuse every request/],
    [{ throttleRate: '-5' }, /throttleRate must be a positive number/],
    [{ throttleBurst: '1.5' }, /throttleBurst must be a positive integer/],
    [
      { modelBucket: null },
      /The model's location is missing: modelBucket is not set\. add --param=modelBucket=<bucket> --param=modelPrefix=/,
    ],
    [
      { modelPrefix: null },
      /The model's location is missing: modelPrefix is not set\. add --param=modelBucket=<bucket>/,
    ],
  ])(
    '%j is refused at package time',
    (params, message) => {
      const { template, output } = osls(['--stage', 'prod'], params);
      expect(template).toBeUndefined();
      expect(output).toMatch(message);
    },
    60_000,
  );
});

describe('posture', () => {
  test(`no --stage is production: stage ${DEFAULT_STAGE}, no IDE, no introspection, no /ide route`, () => {
    const fn = fnOf(noStage);
    expect(fn.Environment.Variables).toMatchObject({
      API_STAGE: 'prod',
      API_IDE: 'false',
      API_INTROSPECTION: 'false',
      API_MASK_ERRORS: 'true',
    });
    expect(fn.FunctionName).toBe('serverless-qa-graphql-prod-api');
    expect(routesOf(noStage)).toEqual(['GET /graphql', 'POST /graphql']);
    // scripts/build-lambda.ts (npm run package:*) defaults to the same stage as serverless.yml.
    expect(DEFAULT_STAGE).toBe(fn.Environment.Variables.API_STAGE);
  });

  test('--stage dev has the IDE and introspection', () => {
    const fn = fnOf(dev);
    expect(fn.Environment.Variables).toMatchObject({ API_STAGE: 'dev', API_IDE: 'true', API_INTROSPECTION: 'true' });
    expect(routesOf(dev)).toEqual(['GET /graphql', 'GET /ide/{file}', 'POST /graphql']);
  });

  test('any other stage, even one src/server/config.ts calls development (test), has neither', () => {
    const t = packaged(['--stage', 'test']);
    expect(fnOf(t).Environment.Variables).toMatchObject({
      API_STAGE: 'test',
      API_IDE: 'false',
      API_INTROSPECTION: 'false',
    });
    expect(routesOf(t)).toEqual(['GET /graphql', 'POST /graphql']);
  }, 60_000);
});

describe('front doors (frontDoor)', () => {
  const ofPrefix = (t: CfnTemplate, prefix: string) =>
    Object.values(t.Resources).filter((r) => r.Type.startsWith(prefix));
  const alarmMetrics = (t: CfnTemplate) =>
    (t.Resources.Api5xxRateAlarm!.Properties.Metrics as Array<{ Id: string; MetricStat?: { Metric: unknown } }>)
      .filter((m) => m.MetricStat)
      .map((m) => [m.Id, m.MetricStat!.Metric]);

  describe('restApi', () => {
    let rest: CfnTemplate;
    beforeAll(() => {
      rest = packaged([], { frontDoor: 'restApi' });
    }, 120_000);

    test('a REST API whose GraphQL methods need an API key, and no HTTP API', () => {
      expect(ofPrefix(rest, 'AWS::ApiGatewayV2::')).toEqual([]);
      only(rest, 'AWS::ApiGateway::RestApi');
      const methods = ofType(rest, 'AWS::ApiGateway::Method').map((m) => m.Properties);
      expect(methods.map((m) => m.HttpMethod).sort()).toEqual(['GET', 'POST']);
      for (const method of methods) {
        expect(method).toMatchObject({ ApiKeyRequired: true, Integration: { Type: 'AWS_PROXY' } });
        expect(JSON.stringify(method.Integration.Uri)).toContain('ApiLambdaFunction');
      }
      expect(only(rest, 'AWS::ApiGateway::Resource').Properties.PathPart).toBe('graphql');
    });

    test("the stage's throttling, and one usage plan with each key's quota and throttle", () => {
      const deployment = only(rest, 'AWS::ApiGateway::Deployment').Properties;
      expect(deployment.StageName).toBe('prod');
      expect(deployment.StageDescription).toEqual({
        ThrottlingRateLimit: DEFAULTS.throttleRate,
        ThrottlingBurstLimit: DEFAULTS.throttleBurst,
      });
      const plan = only(rest, 'AWS::ApiGateway::UsagePlan').Properties;
      expect(plan).toMatchObject({
        Quota: { Limit: 100_000, Period: 'MONTH' },
        Throttle: { RateLimit: 10, BurstLimit: 5 },
      });
      expect(plan.ApiStages).toEqual([{ ApiId: { Ref: 'ApiGatewayRestApi' }, Stage: 'prod' }]);
      expect(only(rest, 'AWS::ApiGateway::ApiKey').Properties).toMatchObject({ Enabled: true, Name: 'default' });
      expect(only(rest, 'AWS::ApiGateway::UsagePlanKey').Properties.KeyType).toBe('API_KEY');
      expect(fnOf(rest).ReservedConcurrentExecutions).toBe(DEFAULTS.reservedConcurrency);
    });

    test("the 5xx alarm reads the REST API's own metrics, by its name and stage", () => {
      const name = only(rest, 'AWS::ApiGateway::RestApi').Properties.Name;
      const dimensions = [
        { Name: 'ApiName', Value: name },
        { Name: 'Stage', Value: 'prod' },
      ];
      expect(alarmMetrics(rest)).toEqual([
        ['errors', { Namespace: 'AWS/ApiGateway', MetricName: '5XXError', Dimensions: dimensions }],
        ['requests', { Namespace: 'AWS/ApiGateway', MetricName: 'Count', Dimensions: dimensions }],
      ]);
      expect(JSON.stringify(rest)).not.toContain('HttpApi');
    });

    test('parameters: keys, quota, throttles; `none` leaves each out; the IDE route is public', () => {
      const t = packaged(['--stage', 'dev'], {
        frontDoor: 'restApi',
        apiKeys: 'partner-a, partner-b',
        apiKeyQuota: '500',
        apiKeyQuotaPeriod: 'day',
        apiKeyThrottleRate: '3',
        apiKeyThrottleBurst: 'none',
        throttleRate: '7',
        throttleBurst: 'none',
      });
      expect(
        ofType(t, 'AWS::ApiGateway::ApiKey')
          .map((k) => k.Properties.Name)
          .sort(),
      ).toEqual(['partner-a', 'partner-b']);
      expect(ofType(t, 'AWS::ApiGateway::UsagePlanKey')).toHaveLength(2);
      const plan = only(t, 'AWS::ApiGateway::UsagePlan').Properties;
      expect([plan.Quota, plan.Throttle]).toEqual([{ Limit: 500, Period: 'DAY' }, { RateLimit: 3 }]);
      expect(only(t, 'AWS::ApiGateway::Deployment').Properties.StageDescription).toEqual({ ThrottlingRateLimit: 7 });
      const methods = ofType(t, 'AWS::ApiGateway::Method').map((m) => [
        m.Properties.HttpMethod,
        m.Properties.ApiKeyRequired,
      ]);
      expect(methods.sort()).toEqual([
        ['GET', false],
        ['GET', true],
        ['POST', true],
      ]);
    }, 60_000);
  });

  test('restApi with corsOrigins: API Gateway answers preflights, without a key, allowing the key header', () => {
    const t = packaged([], { frontDoor: 'restApi', corsOrigins: 'https://app.example.com' });
    expect(ofPrefix(t, 'AWS::ApiGatewayV2::')).toEqual([]);
    const options = ofType(t, 'AWS::ApiGateway::Method').find((m) => m.Properties.HttpMethod === 'OPTIONS')!.Properties;
    expect(options.ApiKeyRequired).toBeFalsy();
    expect(options.Integration.Type).toBe('MOCK');
    const preflight = options.Integration.IntegrationResponses[0].ResponseParameters;
    expect(preflight['method.response.header.Access-Control-Allow-Origin']).toBe("'https://app.example.com'");
    expect(preflight['method.response.header.Access-Control-Allow-Headers'].replace(/'/g, '').split(',')).toContain(
      'x-api-key',
    );
    expect(fnOf(t).Environment.Variables.API_CORS_ORIGINS).toBe('https://app.example.com');
  }, 60_000);

  describe('functionUrl', () => {
    let url: CfnTemplate;
    beforeAll(() => {
      url = packaged([], { frontDoor: 'functionUrl' });
    }, 120_000);

    test('a function URL with AWS_IAM auth, no gateway, the reserved concurrency as its bound', () => {
      expect(ofPrefix(url, 'AWS::ApiGateway')).toEqual([]);
      expect(only(url, 'AWS::Lambda::Url').Properties).toEqual({
        AuthType: 'AWS_IAM',
        TargetFunctionArn: { 'Fn::GetAtt': ['ApiLambdaFunction', 'Arn'] },
      });
      // No public invoke permission: only IAM principals allowed lambda:InvokeFunctionUrl.
      expect(ofType(url, 'AWS::Lambda::Permission')).toEqual([]);
      expect(fnOf(url).ReservedConcurrentExecutions).toBe(DEFAULTS.reservedConcurrency);
      expect(alarmMetrics(url)).toEqual([
        [
          'errors',
          {
            Namespace: 'AWS/Lambda',
            MetricName: 'Url5xxCount',
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'ApiLambdaFunction' } }],
          },
        ],
        [
          'requests',
          {
            Namespace: 'AWS/Lambda',
            MetricName: 'UrlRequestCount',
            Dimensions: [{ Name: 'FunctionName', Value: { Ref: 'ApiLambdaFunction' } }],
          },
        ],
      ]);
      expect(JSON.stringify(url)).not.toContain('HttpApi');
    });

    test('functionUrlAuth=NONE: a public URL, anyone may invoke it', () => {
      const t = packaged([], { frontDoor: 'functionUrl', functionUrlAuth: 'NONE' });
      expect(only(t, 'AWS::Lambda::Url').Properties.AuthType).toBe('NONE');
      const permissions = ofType(t, 'AWS::Lambda::Permission').map((p) => p.Properties);
      expect(permissions).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ Action: 'lambda:InvokeFunctionUrl', Principal: '*', FunctionUrlAuthType: 'NONE' }),
          expect.objectContaining({ Action: 'lambda:InvokeFunction', Principal: '*', InvokedViaFunctionUrl: true }),
        ]),
      );
      expect(permissions).toHaveLength(2);
    }, 60_000);
  });

  test.each([
    [{ frontDoor: 'alb' }, /frontDoor must be one of httpApi, restApi, functionUrl, got "alb"/],
    [
      { frontDoor: 'restApi', jwtIssuer: 'https://issuer.example.com', jwtAudience: 'app' },
      /jwtIssuer is an HTTP API authorizer: use it with frontDoor=httpApi/,
    ],
    [
      { frontDoor: 'restApi', apiKeyQuotaPeriod: 'YEAR' },
      /apiKeyQuotaPeriod must be one of DAY, WEEK, MONTH, got "YEAR"/,
    ],
    [{ frontDoor: 'restApi', apiKeyThrottleRate: '0' }, /apiKeyThrottleRate=0 would refuse every request/],
    [{ frontDoor: 'restApi', apiKeyThrottleRate: '2.5' }, /apiKeyThrottleRate must be a positive integer/],
    [{ frontDoor: 'functionUrl', functionUrlAuth: 'JWT' }, /functionUrlAuth must be AWS_IAM or NONE, got "JWT"/],
    [
      { frontDoor: 'functionUrl', functionUrlAuth: 'NONE', reservedConcurrency: 'none' },
      /functionUrlAuth=NONE with reservedConcurrency=none/,
    ],
  ])(
    '%j is refused at package time',
    (params, message) => {
      const { template, output } = osls([], params);
      expect(template).toBeUndefined();
      expect(output).toMatch(message);
    },
    60_000,
  );
});
