/**
 * A field the API no longer fills stays in the schema, deprecated, so that a query written for it
 * still validates: removing it would turn every such query into a GRAPHQL_VALIDATION_FAILED.
 */
import { createApi } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { fixedModel, loadTinyModel } from './helpers/engines';

test('ModelLoadTimings.runtimeUnpackMs is deprecated, still validates and is null', async () => {
  const tiny = await loadTinyModel();
  const api = createApi({
    config: apiConfig({ responseCacheBytes: 0 }),
    provider: fixedModel(tiny.engine, tiny.info),
    ideAssetsDir: null,
    logSink: () => undefined,
  });
  try {
    const response = await api.server.executeOperation(
      {
        query: `{
          model { loadTimings { totalMs runtimeUnpackMs } }
          __type(name: "ModelLoadTimings") { fields(includeDeprecated: true) { name isDeprecated deprecationReason } }
        }`,
      },
      { contextValue: await api.createContext() },
    );
    const result = response.body.kind === 'single' ? response.body.singleResult : undefined;
    expect(result?.errors).toBeUndefined();
    const data = result?.data as {
      model: { loadTimings: { totalMs: number; runtimeUnpackMs: number | null } };
      __type: { fields: Array<{ name: string; isDeprecated: boolean; deprecationReason: string | null }> };
    };
    expect(data.model.loadTimings.runtimeUnpackMs).toBeNull();
    expect(typeof data.model.loadTimings.totalMs).toBe('number');
    const field = data.__type.fields.find((f) => f.name === 'runtimeUnpackMs');
    expect(field?.isDeprecated).toBe(true);
    expect(field?.deprecationReason).toMatch(/no longer unpacked/);
  } finally {
    await api.server.stop();
  }
});
