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

const ofType = (t: CfnTemplate, type: string): CfnResource[] => Object.values(t.Resources).filter((r) => r.Type === type);
const only = (t: CfnTemplate, type: string): CfnResource => {
  const found = ofType(t, type);
  expect(found).toHaveLength(1);
  return found[0]!;
};
const fnOf = (t: CfnTemplate) => only(t, 'AWS::Lambda::Function').Properties;
const stageOf = (t: CfnTemplate) => only(t, 'AWS::ApiGatewayV2::Stage').Properties;
const routesOf = (t: CfnTemplate) => ofType(t, 'AWS::ApiGatewayV2::Route').map((r) => r.Properties.RouteKey).sort();

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
    for (const route of ofType(t, 'AWS::ApiGatewayV2::Route')) expect(route.Properties.ApiId).toEqual({ Ref: 'HttpApi' });
    // No route-level settings that would override the stage's.
    expect(ofType(t, 'AWS::ApiGatewayV2::Stage').flatMap((s) => Object.keys(s.Properties.RouteSettings ?? {}))).toEqual([]);
  });

  test('what an attack can spend at most, from the template, is the figure docs/deploy.md gives', () => {
    const fn = fnOf(noStage);
    const gb = fn.MemorySize / 1024;
    // Compute runs in at most ReservedConcurrentExecutions sandboxes, each billed for wall time.
    const gbSecondsPerHour = fn.ReservedConcurrentExecutions * gb * 3600;
    // One request runs at most Timeout seconds.
    const gbSecondsPerRequest = gb * fn.Timeout;
    const { ThrottlingRateLimit: rate, ThrottlingBurstLimit: burst } = stageOf(noStage).DefaultRouteSettings;
    const requestsPerHour = rate * 3600 + burst;
    const docs = readFileSync(path.join(ROOT, 'docs', 'deploy.md'), 'utf8').replace(/\s+/g, ' ');
    const en = (n: number, digits = 0) => n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
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
    expect([config.limits.maxRequestWindows, config.limits.maxRequestTextLength, config.responseCacheBytes]).toEqual([24, 50_000, 0]);
  });
});

describe('parameters', () => {
  test('override the defaults', () => {
    const t = packaged(['--stage', 'prod'], { reservedConcurrency: '3', throttleRate: '12.5', throttleBurst: '7' });
    expect(fnOf(t).ReservedConcurrentExecutions).toBe(3);
    expect(stageOf(t).DefaultRouteSettings).toEqual({ DetailedMetricsEnabled: false, ThrottlingRateLimit: 12.5, ThrottlingBurstLimit: 7 });
  }, 60_000);

  test('`none` leaves each limit out of the template (not 0, which would refuse every request)', () => {
    const t = packaged(['--stage', 'prod'], { reservedConcurrency: 'none', throttleRate: 'none', throttleBurst: 'none' });
    const fn = fnOf(t);
    expect(fn).not.toHaveProperty('ReservedConcurrentExecutions');
    // Everything else of the function is still there.
    expect(fn).toMatchObject({ MemorySize: 1769, Timeout: 29, Handler: 'dist/lambda/handler.handler' });
    expect(stageOf(t).DefaultRouteSettings).toEqual({ DetailedMetricsEnabled: false });
    // Only the reservation off: the throttling stays.
    const partial = packaged(['--stage', 'prod'], { reservedConcurrency: 'none' });
    expect(fnOf(partial)).not.toHaveProperty('ReservedConcurrentExecutions');
    expect(stageOf(partial).DefaultRouteSettings).toMatchObject({ ThrottlingRateLimit: DEFAULTS.throttleRate, ThrottlingBurstLimit: DEFAULTS.throttleBurst });
  }, 60_000);

  test.each([
    [{ reservedConcurrency: '0' }, /reservedConcurrency=0 would refuse every request; use reservedConcurrency=none/],
    [{ reservedConcurrency: 'ten' }, /reservedConcurrency must be a positive integer or "none", got "ten"/],
    [{ reservedConcurrency: '2.5' }, /reservedConcurrency must be a positive integer/],
    [{ throttleRate: '0' }, /throttleRate=0 would refuse every request/],
    [{ throttleRate: '-5' }, /throttleRate must be a positive number/],
    [{ throttleBurst: '1.5' }, /throttleBurst must be a positive integer/],
  ])('%j is refused at package time', (params, message) => {
    const { template, output } = osls(['--stage', 'prod'], params);
    expect(template).toBeUndefined();
    expect(output).toMatch(message);
  }, 60_000);
});

describe('posture', () => {
  test(`no --stage is production: stage ${DEFAULT_STAGE}, no IDE, no introspection, no /ide route`, () => {
    const fn = fnOf(noStage);
    expect(fn.Environment.Variables).toMatchObject({ API_STAGE: 'prod', API_IDE: 'false', API_INTROSPECTION: 'false', API_MASK_ERRORS: 'true' });
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
    expect(fnOf(t).Environment.Variables).toMatchObject({ API_STAGE: 'test', API_IDE: 'false', API_INTROSPECTION: 'false' });
    expect(routesOf(t)).toEqual(['GET /graphql', 'POST /graphql']);
  }, 60_000);
});
