/** `model` and `health`: information about the model and this server instance. */
import type { HealthResolvers, ModelInfoResolvers, QueryResolvers } from '../generated/graphql';
import { initTimings } from '../support/init-timings';
import { toGraphQLError } from '../api/errors';
import { waitForModel } from './wait-for-model';

export const modelQueryResolvers: Pick<QueryResolvers, 'model' | 'health'> = {
  model: async (_parent, _args, ctx) => {
    try {
      // Loads on first use, so clients (and deploy scripts) can warm an instance with it; a
      // request past its deadline stops waiting (the load itself goes on for the next request).
      await waitForModel(ctx.provider, ctx.scope.signal);
    } catch (error) {
      throw toGraphQLError(error);
    }
    return ctx.provider.info();
  },
  // Never awaits the model: a health check must stay cheap even while the model loads.
  health: (_parent, _args, ctx) => ({
    state: ctx.provider.state(),
    uptimeSeconds: (Date.now() - ctx.serverStartedAt) / 1000,
    // A snapshot: the counters go on changing after this request.
    responseCache: ctx.responseCache ? { ...ctx.responseCache } : null,
  }),
};

export const modelInfoResolvers: ModelInfoResolvers = {
  // Both name the bucket (and the ETag identifies the object): public in development only.
  source: (info, _args, ctx) => (ctx.exposeModelSource ? info.source : null),
  etag: (info, _args, ctx) => (ctx.exposeModelSource ? info.etag : null),
  sizeBytes: (info) => info.bytes,
  family: (info) => (info.family ? { modelType: info.family.modelType, architecture: info.family.architecture } : null),
  tokenizer: (info) => info.family?.tokenizer ?? null,
  // The load's own steps, and what the sandbox's INIT spent beside them (src/support/init-timings.ts).
  loadTimings: (info) => ({ ...info.timings, ...initTimings() }),
};

export const healthResolvers: HealthResolvers = {
  ready: (health) => health.state === 'ready',
  modelState: (health) => health.state.toUpperCase() as 'IDLE' | 'LOADING' | 'READY' | 'FAILED',
  uptimeSeconds: (health) => health.uptimeSeconds,
  responseCache: (health) => health.responseCache,
};
