/** The API's switches come from explicit variables, never from NODE_ENV, and typos fail loudly. */
import { ConfigError, DEFAULT_LIMITS, loadApiConfig } from '../../src/server/config';

test('defaults off Lambda without API_STAGE (local development): introspection and IDE on, errors masked, whatever NODE_ENV says', () => {
  for (const NODE_ENV of [undefined, 'production', 'development']) {
    expect(loadApiConfig({ NODE_ENV })).toEqual({
      stage: '',
      production: false,
      introspection: true,
      ide: true,
      maskErrors: true,
      corsOrigins: [],
      logRequests: false,
      logRequestText: false,
      responseCacheBytes: 0,
      documentCacheBytes: 8 * 1024 * 1024,
      persistedQueryCacheBytes: 8 * 1024 * 1024,
      limits: DEFAULT_LIMITS,
    });
  }
});

test('explicit switches and limits', () => {
  const config = loadApiConfig({
    API_INTROSPECTION: 'false',
    API_IDE: '0',
    API_MASK_ERRORS: 'FALSE',
    API_MAX_CONTEXT_LENGTH: '50_000',
    API_MAX_BATCH_OPERATIONS: '3',
    API_MAX_REQUEST_WINDOWS: '24',
    API_REQUEST_TIMEOUT_MS: '5000',
  });
  expect(config.limits).toMatchObject({ maxRequestWindows: 24, requestTimeoutMs: 5_000 });
  expect(config).toMatchObject({ introspection: false, ide: false, maskErrors: false });
  expect(config.limits.maxContextLength).toBe(50_000);
  expect(config.limits.maxBatchOperations).toBe(3);
});

test('the parsed-document and persisted-query caches: 8 MiB each in every stage unless set, 0 turns them off', () => {
  for (const API_STAGE of ['prod', 'dev']) {
    expect(loadApiConfig({ API_STAGE })).toMatchObject({
      documentCacheBytes: 8 * 1024 * 1024,
      persistedQueryCacheBytes: 8 * 1024 * 1024,
    });
  }
  expect(loadApiConfig({ API_DOCUMENT_CACHE_BYTES: '0', API_PERSISTED_QUERY_CACHE_BYTES: '1_000_000' })).toMatchObject({
    documentCacheBytes: 0,
    persistedQueryCacheBytes: 1_000_000,
  });
  expect(() => loadApiConfig({ API_PERSISTED_QUERY_CACHE_BYTES: '-1' })).toThrow(
    /API_PERSISTED_QUERY_CACHE_BYTES must be an integer >= 0/,
  );
});

test('the response cache: 16 MiB in production unless set, off in development, 0 turns it off', () => {
  expect(loadApiConfig({ API_STAGE: 'prod' }).responseCacheBytes).toBe(16 * 1024 * 1024);
  expect(loadApiConfig({ API_STAGE: 'prod', API_RESPONSE_CACHE_BYTES: '0' }).responseCacheBytes).toBe(0);
  expect(loadApiConfig({ API_STAGE: 'dev' }).responseCacheBytes).toBe(0);
  expect(loadApiConfig({ API_STAGE: 'dev', API_RESPONSE_CACHE_BYTES: '1_000_000' }).responseCacheBytes).toBe(1_000_000);
});

test.each([
  [
    { API_RESPONSE_CACHE_BYTES: '-1' },
    /API_RESPONSE_CACHE_BYTES must be an integer >= 0 \(bytes; 0 turns it off\), got "-1"/,
  ],
  [{ API_IDE: 'yes please' }, /API_IDE must be true or false/],
  [{ API_MAX_TOP_K: '0' }, /API_MAX_TOP_K must be a positive integer, got "0"/],
  [{ API_MAX_INPUTS: '3.5' }, /API_MAX_INPUTS must be a positive integer/],
  [{ API_MAX_REQUEST_WINDOWS: '-64' }, /API_MAX_REQUEST_WINDOWS must be a positive integer/],
])('malformed %j is a ConfigError', (env, message) => {
  expect(() => loadApiConfig(env)).toThrow(ConfigError);
  expect(() => loadApiConfig(env)).toThrow(message);
});

test('introspection off: __schema is rejected', async () => {
  const { createApi } = await import('../../src/server/api');
  const { apiConfig } = await import('../../src/server/config');
  // No model is needed; every response only asks whether one is the demo model (none is loaded).
  const api = createApi({
    config: apiConfig({ introspection: false, ide: false }),
    provider: { info: () => null } as never,
  });
  const res = await api.server.executeOperation(
    { query: '{ __schema { queryType { name } } }' },
    { contextValue: await api.createContext() },
  );
  expect(res.http.status).toBe(400);
  expect(res.body.kind === 'single' && res.body.singleResult.errors?.[0]?.extensions?.code).toBe(
    'GRAPHQL_VALIDATION_FAILED',
  );
  await api.server.stop();
});
