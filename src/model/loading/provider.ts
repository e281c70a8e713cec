import type { QAEngine } from '../engine';
import { withinTime } from '../../support/within-time';
import { DEFAULT_BACKOFF, backoffDelay, validateBackoff, type BackoffOptions } from './backoff';
import { loadModelLoadingConfig, type ModelLoadingConfig } from './config';
import { configuredSource, type ConfiguredSourceOptions } from './configured-source';
import type { LoadedModel } from './load-model';
import { ModelUnavailableError } from './errors';
import type { EngineState, LoadEvents, LoadFailure, LoadLogger, ModelInfo, ModelProvider } from './types';

/** How the provider keeps its model: the backoff, the wait bound, where each attempt is reported. */
interface KeepOptions {
  /** Backoff after failed loads (default 1 s doubling to 30 s; the configuration's without `load`). */
  backoff?: BackoffOptions;
  /** Clock, injectable for tests. */
  now?: () => number;
  logger?: LoadLogger;
  /** Called when each load attempt ends (metrics). */
  events?: LoadEvents;
  /** Describes the source in messages (e.g. the URI), when known before loading. */
  describe?: string;
  /**
   * Longest `get()` waits for a load in progress (default: as long as it takes; the configuration's
   * MODEL_MAX_WAIT_MS without `load`). Past it the caller gets ModelUnavailableError and stops
   * waiting; the load itself goes on for later callers.
   */
  maxWaitMs?: number;
}

export interface ModelProviderOptions extends KeepOptions, ConfiguredSourceOptions {
  /** The environment the configuration is read from (default: process.env). */
  env?: Record<string, string | undefined>;
  /** The configuration itself, instead of reading `env`. */
  config?: ModelLoadingConfig;
  /**
   * Loads the model. Without it, the configured source (configured-source.ts: MODEL_URI from `env`
   * or `config`, else `defaultSource`), with the configuration's backoff and wait bound.
   */
  load?: () => Promise<LoadedModel>;
}

const silent: LoadLogger = { info: () => undefined, warn: () => undefined, error: () => undefined };

/**
 * The model provider that loads:
 *
 * - The first `get()` (or `warmUp()`) starts the load; concurrent callers await the same promise,
 *   so ten cold requests cause one download.
 * - A failed load is reported as ModelUnavailableError with the reason, and is not cached: after a
 *   backoff (exponential, capped) the next call starts a new load. During the backoff calls fail
 *   fast, saying when the next attempt is allowed, rather than hammering S3 once per request.
 */
class LoadingProvider implements ModelProvider {
  private loaded: LoadedModel | null = null;
  private inflight: Promise<LoadedModel> | null = null;
  private failures = 0;
  private lastError: Error | null = null;
  private retryAt = 0;
  private readonly backoff: BackoffOptions;
  private readonly now: () => number;
  private readonly logger: LoadLogger;
  private readonly events: LoadEvents;

  constructor(
    private readonly load: () => Promise<LoadedModel>,
    options: KeepOptions,
  ) {
    this.backoff = validateBackoff(options.backoff ?? DEFAULT_BACKOFF);
    this.now = options.now ?? Date.now;
    this.logger = options.logger ?? silent;
    this.events = options.events ?? {};
    this.describe = options.describe ?? 'the model';
    this.maxWaitMs = options.maxWaitMs;
  }
  private readonly describe: string;
  private readonly maxWaitMs: number | undefined;

  /**
   * The loaded engine; rejects with ModelUnavailableError while the model cannot be loaded, and when
   * a load in progress has not finished within `maxWaitMs`.
   */
  async get(): Promise<QAEngine> {
    if (this.loaded) return this.loaded.engine;
    return (await this.waitAtMost(this.loadOrJoin())).engine;
  }

  /** `load` or ModelUnavailableError after maxWaitMs, whichever first. */
  private waitAtMost(load: Promise<LoadedModel>): Promise<LoadedModel> {
    const ms = this.maxWaitMs;
    if (ms === undefined || !Number.isFinite(ms)) return load;
    return withinTime(load, ms, () => {
      throw new ModelUnavailableError(`Model unavailable: ${this.describe} is still loading after ${ms} ms`);
    });
  }

  /** The load in progress, or a new one (outside a backoff); no bound on the wait. */
  private async loadOrJoin(): Promise<LoadedModel> {
    if (this.loaded) return this.loaded;
    if (this.inflight) return this.inflight;
    const now = this.now();
    if (this.lastError && now < this.retryAt) {
      const waitS = Math.ceil((this.retryAt - now) / 1000);
      throw new ModelUnavailableError(
        `${this.lastError.message}; next load attempt in ${waitS} s (at ${new Date(this.retryAt).toISOString()})`,
        { cause: this.lastError.cause ?? this.lastError },
      );
    }
    return this.start();
  }

  /** Provenance of the loaded model, or null until a load has succeeded. */
  info(): ModelInfo | null {
    return this.loaded?.info ?? null;
  }

  state(): EngineState {
    if (this.loaded) return 'ready';
    if (this.inflight) return 'loading';
    return this.lastError ? 'failed' : 'idle';
  }

  /** The last load failure (a ModelUnavailableError), or null. */
  error(): Error | null {
    return this.lastError;
  }

  /**
   * Starts (or joins) the load and waits for it, never throwing: for Lambda INIT (top-level await
   * in an ESM handler) and server start-up, where a failure must not crash the process — requests
   * will report it and retry.
   */
  async warmUp(): Promise<boolean> {
    try {
      await this.loadOrJoin();
      return true;
    } catch {
      return false;
    }
  }

  private start(): Promise<LoadedModel> {
    const started = this.now();
    this.logger.info('model load started', { source: this.describe, attempt: this.failures + 1 });
    const attempt = (async () => {
      try {
        const loaded = await this.load();
        this.loaded = loaded;
        this.failures = 0;
        this.lastError = null;
        this.logger.info('model loaded', { ...loaded.info });
        this.events.onLoaded?.(loaded.info);
        return loaded;
      } catch (err) {
        this.failures += 1;
        const delay = backoffDelay(this.failures, this.backoff);
        this.retryAt = this.now() + delay;
        const reason = (err as Error)?.message ?? String(err);
        this.lastError = new ModelUnavailableError(`Model unavailable: ${reason}`, { cause: err });
        const failure: LoadFailure = {
          reason,
          failures: this.failures,
          retryInMs: delay,
          elapsedMs: this.now() - started,
        };
        this.logger.error('model load failed', { source: this.describe, ...failure });
        this.events.onLoadFailed?.(failure);
        throw this.lastError;
      } finally {
        this.inflight = null;
      }
    })();
    this.inflight = attempt;
    // Callers may all have gone (warm-up without await); never leave the rejection unobserved.
    attempt.catch(() => undefined);
    return attempt;
  }
}

/**
 * The container's model singleton. Call `warmUp()` at module load (Lambda INIT) or server start;
 * request handlers call `get()`.
 */
export function createModelProvider(options: ModelProviderOptions = {}): ModelProvider {
  if (options.load) return new LoadingProvider(options.load, options);
  const config = options.config ?? loadModelLoadingConfig(options.env);
  const source = configuredSource(config, options);
  return new LoadingProvider(source.load, {
    ...options,
    describe: options.describe ?? source.describe,
    backoff: options.backoff ?? config.retry,
    maxWaitMs: options.maxWaitMs ?? config.maxWaitMs,
  });
}
