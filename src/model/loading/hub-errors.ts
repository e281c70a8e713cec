/**
 * The Hub client's errors (hub-pull.ts, `npm start`'s hub-source.ts). Apart from errors.ts so
 * that nothing the Lambda bundle reaches carries the Hub client.
 */

/**
 * Why a Hub download failed. Only UNREACHABLE (connection refused, DNS, timeout: no answer at all)
 * lets `npm start` fall back to the demo model; the others are answers that retrying will not change.
 */
export type HubFailure = 'UNREACHABLE' | 'NOT_FOUND' | 'REFUSED' | 'HTTP_ERROR' | 'INTEGRITY' | 'DOWNLOAD_FAILED';

/** A download from the Hub failed: not found, network, or an integrity check. */
export class HubDownloadError extends Error {
  override readonly name = 'HubDownloadError';
  constructor(
    message: string,
    /** The resolve URL of the file concerned. */
    readonly url: string,
    options?: { cause?: unknown; kind?: HubFailure },
  ) {
    super(message, options);
    this.kind = options?.kind ?? 'HTTP_ERROR';
  }
  readonly kind: HubFailure;
}

/**
 * The default model could not be pulled for a reason other than an unreachable Hub (no such
 * repository or revision, refused, a checksum mismatch, …): a configuration or data problem that
 * the demo model would only hide. Names the repository, revision and endpoint.
 */
export class HubPullError extends Error {
  override readonly name = 'HubPullError';
  constructor(
    readonly repo: string,
    readonly revision: string,
    endpoint: string,
    cause: unknown,
  ) {
    super(
      `Cannot pull the model ${repo}@${revision} from ${endpoint}: ${(cause as Error)?.message ?? String(cause)}. ` +
        'Check MODEL_HUB_REPO and MODEL_HUB_REVISION (HF_TOKEN for a gated repository), or set MODEL_URI.',
      { cause },
    );
  }
}
