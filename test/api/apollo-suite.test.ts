/**
 * Apollo's own integration test suite against both transports of the request core: the Lambda
 * adapter (src/server/lambda.ts), through a loopback HTTP server that turns requests into the
 * events of every front door (API Gateway HTTP API and REST API, function URL, ALB with and without
 * multi-value headers) — as the @as-integrations/aws-lambda repository tests its handlers — with
 * plain and base64 bodies; and the local server's node:http listener (src/local-server.ts). The suite
 * builds its own ApolloServer and schema; what it tests is our transports and core.
 *
 * Apollo version: the suite is published up to 5.5.0 and pins @apollo/server 5.5.0 exactly (its
 * own nested copy), and its first test checks `server instanceof` that copy. The product runs
 * @apollo/server 5.5.1, so the servers here are built from the suite's pinned copy: the adapter
 * under test is ours either way. (With the product's 5.5.1 server, every test but that
 * lockstep check passes.) The suite itself skips its @defer/@stream tests (incremental delivery):
 * neither transport streams.
 *
 * Configured differently from production: the HTTP batch cap. The suite sends a 100-operation
 * batch to check operations run concurrently; production caps batches at
 * API_MAX_BATCH_OPERATIONS (10), which test/api/bad-input.test.ts covers.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import type { ApolloServerOptions, BaseContext } from '@apollo/server';
import {
  defineIntegrationTestSuite,
  type CreateServerForIntegrationTestsOptions,
} from '@apollo/server-integration-testsuite';
import { createLambdaHandler } from '../../src/server/lambda';
import { createNodeListener } from '../../src/local-server';
import { DEFAULT_LIMITS } from '../../src/server/config';
import { loopbackServer, type Door, type DoorHandler } from './helpers/lambda-events';

/** The @apollo/server the suite itself resolves (its pinned version). */
const suiteDir = path.dirname(require.resolve('@apollo/server-integration-testsuite'));
const { ApolloServer } = require(
  require.resolve('@apollo/server', { paths: [suiteDir] }),
) as typeof import('@apollo/server');

/**
 * Every door, with plain and base64 bodies. An ALB without multi-value headers is left to
 * test/api/lambda-doors.test.ts: it sends only the last value of a repeated query parameter, so the
 * suite's check that a repeated `query` parameter is refused cannot pass behind it.
 */
const LAMBDA_CASES: Array<[Door, boolean]> = [
  ['httpApi', false],
  ['httpApi', true],
  ['functionUrl', false],
  ['restApi', false],
  ['restApi', true],
  ['albMultiValue', false],
  ['albMultiValue', true],
];

describe.each(LAMBDA_CASES)('Lambda adapter, %s events, base64 bodies: %s', (door, base64) => {
  defineIntegrationTestSuite(
    async (serverOptions: unknown, testOptions?: CreateServerForIntegrationTestsOptions) => {
      // The suite's options are typed by its own nested @apollo/server copy; same shape.
      const server = new ApolloServer({ ...(serverOptions as ApolloServerOptions<BaseContext>) });
      const handler = createLambdaHandler(server, {
        limits: { ...DEFAULT_LIMITS, maxBatchOperations: 100 },
        context: testOptions?.context ?? (async () => ({})),
      });
      const loopback = await loopbackServer(handler as DoorHandler, base64, door);
      return { server: server as never, url: loopback.url, extraCleanup: () => loopback.close() };
    },
    {
      // startServerAndCreateLambdaHandler starts the server in the background.
      serverIsStartedInBackground: true,
      // API Gateway payload v2 results are not streamed: no @defer/@stream (multipart) responses.
      noIncrementalDelivery: true,
    },
  );
});

describe('local server (node:http)', () => {
  defineIntegrationTestSuite(
    async (serverOptions: unknown, testOptions?: CreateServerForIntegrationTestsOptions) => {
      const server = new ApolloServer({ ...(serverOptions as ApolloServerOptions<BaseContext>) });
      await server.start();
      const httpServer = http.createServer(
        createNodeListener(server, {
          // The suite requests paths under its URL's root, as for the Lambda loopback.
          graphqlPath: null,
          limits: { ...DEFAULT_LIMITS, maxBatchOperations: 100 },
          context: testOptions?.context ?? (async () => ({})),
        }),
      );
      await new Promise<void>((resolve) => httpServer.listen(0, '127.0.0.1', resolve));
      const { port } = httpServer.address() as AddressInfo;
      return {
        server: server as never,
        url: `http://127.0.0.1:${port}/`,
        extraCleanup: () =>
          new Promise<void>((resolve) => {
            httpServer.close(() => resolve());
            httpServer.closeAllConnections();
          }),
      };
    },
    // Both transports answer through the core, which sends complete responses only (no @defer).
    { noIncrementalDelivery: true },
  );
});
