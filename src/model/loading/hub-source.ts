import { existsSync } from 'node:fs';
import * as path from 'node:path';
import type { ModelLoadingConfig } from './config';
import { loadModelLoadingConfig } from './config';
import { HubDownloadError, HubPullError } from './hub-errors';
import { PULL_MANIFEST, pullFromHub, type PullOptions, type PullResult } from './hub-pull';
import type { LoadLogger } from './types';
import type { DefaultModelSource } from './configured-source';
import { jsonLineLogger } from '../../support/json-log';

/** The model `npm start` will load, and how it was chosen. */
export interface ResolvedModelSource {
  uri: string;
  /** `configured` (MODEL_URI), `hub-cache` (pulled earlier), `hub` (pulled now), `demo` (generated). */
  origin: 'configured' | 'hub-cache' | 'hub' | 'demo';
  /** True for the generated random-weight model. */
  demo: boolean;
  /** The Hub repo id when the model came from the Hub. */
  name?: string;
}

export interface ResolveDefaultOptions {
  config?: ModelLoadingConfig;
  logger?: LoadLogger;
  /** Injectable for tests. */
  pull?: (options: PullOptions) => Promise<PullResult>;
  /**
   * Returns the folder of a generated demo model. Given by `npm start` (scripts/start.ts: the
   * test-model generator, which lives in scripts/ and is never part of production code); without
   * it an unreachable Hub is an error like any other pull failure.
   */
  demoModel?: () => Promise<string>;
}

/** The banner logged when the demo model is used: nobody should mistake its answers for a trained model's. */
export const DEMO_WARNING =
  '*** DEMO MODEL: the Hugging Face Hub could not be reached and MODEL_URI is not set, so a GENERATED ' +
  'model with RANDOM WEIGHTS is loaded. Its answers are MEANINGLESS. Set MODEL_URI, or run ' +
  '`npm run model -- pull` when online. ***';

/** Where the Hub model is cached: `<cacheDir>/<org>/<name>/<revision>`. */
export function hubCacheDir(config: Pick<ModelLoadingConfig, 'cacheDir' | 'hub'>): string {
  return path.join(config.cacheDir, ...config.hub.repo.split('/'), config.hub.revision.replace(/[\\/]/g, '_'));
}

/**
 * Chooses the model for `npm start`: `MODEL_URI` if set; otherwise the default Hub model
 * (`MODEL_HUB_REPO`, quantized) from the local cache, pulled on first run; if the Hub cannot be
 * reached within `MODEL_HUB_TIMEOUT_MS` (refused, DNS, timeout), the generated demo model
 * (`options.demoModel`), with a loud warning. Any other pull failure (a 404 or 401 for a mistyped repository, a checksum
 * mismatch, …) rejects with a HubPullError naming the repository: no demo model.
 */
export async function resolveDefaultModelSource(options: ResolveDefaultOptions = {}): Promise<ResolvedModelSource> {
  const config = options.config ?? loadModelLoadingConfig();
  const logger = options.logger ?? jsonLineLogger;
  if (config.modelUri) return { uri: config.modelUri, origin: 'configured', demo: false };
  const dir = hubCacheDir(config);
  const name = config.hub.repo;
  if (existsSync(path.join(dir, PULL_MANIFEST))) return { uri: dir, origin: 'hub-cache', demo: false, name };
  try {
    logger.info(`MODEL_URI not set: pulling ${name}@${config.hub.revision} from ${config.hub.endpoint} into ${dir}`);
    await (options.pull ?? pullFromHub)({
      repo: name,
      revision: config.hub.revision,
      onnx: config.preferQuantized ? 'int8' : 'fp32',
      dir,
      endpoint: config.hub.endpoint,
      token: config.hub.token,
      timeoutMs: config.hub.timeoutMs,
      retries: 2,
    });
    return { uri: dir, origin: 'hub', demo: false, name };
  } catch (err) {
    // Only "no answer at all" (refused, DNS, timeout) means offline; any answer is a real error.
    if (!(err instanceof HubDownloadError && err.kind === 'UNREACHABLE') || !options.demoModel) {
      throw new HubPullError(name, config.hub.revision, config.hub.endpoint, err);
    }
    const demoDir = await options.demoModel();
    logger.warn(DEMO_WARNING, { reason: (err as Error).message, demoModel: demoDir });
    return { uri: demoDir, origin: 'demo', demo: true };
  }
}

/** `npm start`'s source for createModelProvider's `defaultSource`, with its demo model and test hooks. */
export function defaultModelSource(options: Omit<ResolveDefaultOptions, 'config' | 'logger'> = {}): DefaultModelSource {
  return (context) => resolveDefaultModelSource({ ...options, ...context });
}
