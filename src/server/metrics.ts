/**
 * The API's metrics: Powertools' Metrics, written as CloudWatch EMF lines on stdout (no API call,
 * no agent), per request and per model load. Dimensions have bounded cardinality only (`code` is
 * one of METRIC_ERROR_CODES, else OTHER), so the alarms and the dashboard can name them; the list
 * of metrics is in docs/operations.md, "Metrics". Each request gets its own Metrics instance: the
 * local server runs requests concurrently, and a shared one would mix their metrics.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { modelVersion } from '../model/loading/model-version';
import type { LoadEvents, ModelInfo } from '../model/loading/types';
import { ERROR_TABLE } from '../api/error-table';
import { serviceName } from '../support/json-log';
import { str } from '../support/env';

/** The CloudWatch namespace, unless POWERTOOLS_METRICS_NAMESPACE says otherwise. */
export const METRICS_NAMESPACE = 'ServerlessQaGraphql';

/**
 * The `code` dimension's values: the API's codes and Apollo's (ERROR_TABLE lists both), and the
 * introspection rule's; any other code is OTHER.
 */
export const METRIC_ERROR_CODES: ReadonlySet<string> = new Set([...Object.keys(ERROR_TABLE), 'INTROSPECTION_DISABLED']);

/** What one request did, as the request core knows it when the response is ready. */
export interface RequestRecord {
  status: number;
  durationMs: number;
  inputs: number;
  windows: number;
  tokens: number;
  /** extensions.code of each error sent (duplicates kept). */
  codes: readonly string[];
  budgetRejections: number;
  /** Operations the response cache answered, and those it missed; undefined where there is no cache. */
  responseCache?: { hits: number; misses: number };
}

/** Where the request core and the model loader report; ApiMetrics writes EMF. */
export interface MetricsRecorder {
  request(record: RequestRecord): void;
  modelLoaded(info: ModelInfo): void;
  modelLoadFailed(): void;
}

/** The `modelVersion` dimension: model-version.ts's, or 'unversioned' (a local folder). */
export function versionDimension(info: ModelInfo): string {
  return modelVersion(info) ?? 'unversioned';
}

export class ApiMetrics implements MetricsRecorder {
  private readonly namespace: string;
  private readonly serviceName: string;
  private readonly stage: string;

  constructor(options: { stage: string }, env = process.env) {
    this.namespace = str(env, 'POWERTOOLS_METRICS_NAMESPACE') ?? METRICS_NAMESPACE;
    this.serviceName = serviceName(env);
    // Locally API_STAGE is often unset: a named value keeps the dimension present on every line.
    this.stage = options.stage || 'local';
  }

  private open(dimensions: Record<string, string> = {}): Metrics {
    return new Metrics({
      namespace: this.namespace,
      serviceName: this.serviceName,
      defaultDimensions: { stage: this.stage, ...dimensions },
    });
  }

  request(record: RequestRecord): void {
    const m = this.open();
    m.addMetric('Requests', MetricUnit.Count, 1);
    m.addMetric('Latency', MetricUnit.Milliseconds, record.durationMs);
    m.addMetric('Inputs', MetricUnit.Count, record.inputs);
    m.addMetric('Windows', MetricUnit.Count, record.windows);
    m.addMetric('Tokens', MetricUnit.Count, record.tokens);
    m.addMetric('Errors', MetricUnit.Count, record.codes.length);
    m.addMetric('BudgetRejections', MetricUnit.Count, record.budgetRejections);
    if (record.responseCache) {
      m.addMetric('ResponseCacheHits', MetricUnit.Count, record.responseCache.hits);
      m.addMetric('ResponseCacheMisses', MetricUnit.Count, record.responseCache.misses);
    }
    m.publishStoredMetrics();
    const byCode = new Map<string, number>();
    for (const code of record.codes) {
      const key = METRIC_ERROR_CODES.has(code) ? code : 'OTHER';
      byCode.set(key, (byCode.get(key) ?? 0) + 1);
    }
    for (const [code, count] of byCode) {
      const c = this.open({ code });
      c.addMetric('Errors', MetricUnit.Count, count);
      c.publishStoredMetrics();
    }
  }

  modelLoaded(info: ModelInfo): void {
    const m = this.open({ modelVersion: versionDimension(info) });
    m.addMetric('ModelLoads', MetricUnit.Count, 1);
    m.addMetric('ModelLoadMs', MetricUnit.Milliseconds, info.timings.totalMs);
    m.addMetric('ModelDownloadMs', MetricUnit.Milliseconds, info.timings.downloadMs);
    m.addMetric('ModelSessionCreateMs', MetricUnit.Milliseconds, info.timings.sessionCreateMs);
    m.addMetric('ModelTokenizerMs', MetricUnit.Milliseconds, info.timings.tokenizerMs);
    m.addMetric('ModelBytes', MetricUnit.Bytes, info.bytes);
    // Metadata is in the log line, not a dimension: searchable, and no new metric series.
    m.addMetadata('modelName', info.name);
    m.publishStoredMetrics();
  }

  modelLoadFailed(): void {
    const m = this.open();
    m.addMetric('ModelLoadFailures', MetricUnit.Count, 1);
    m.publishStoredMetrics();
  }
}

/** Each load attempt's metrics (timings and model version, or a failure), from the provider's events. */
export function loadMetrics(metrics: MetricsRecorder): LoadEvents {
  return {
    onLoaded: (info) => metrics.modelLoaded(info),
    onLoadFailed: () => metrics.modelLoadFailed(),
  };
}
