/**
 * Containment: what the deployment lets anyone spend. The parts of serverless.yml that plain YAML
 * variables cannot express, because a limit that is switched off must be left out of the template
 * (0 is not "off": a reserved concurrency of 0 throttles every invocation, a rate of 0 refuses
 * every request). Read by osls through `${file(./scripts/serverless/containment.js):<name>}`;
 * never packaged. docs/deploy.md ("Containment") gives the reasoning behind the defaults.
 *
 * Parameters (`--param=name=value`, or per stage under `params` in serverless.yml). `none` (or an
 * empty value in `params`; osls refuses an empty `--param=name=`) leaves the limit out:
 *   reservedConcurrency  the function's reserved concurrent executions: at most this many requests
 *                 run at once, so compute spend is bounded by reservedConcurrency × memory, and the
 *                 rest of the account keeps its concurrency. `none` on accounts whose concurrency
 *                 quota is too small to reserve from (new accounts often have 10, and AWS keeps 10
 *                 unreserved).
 *   throttleRate  the API stage's throttling (HTTP API or REST API), steady requests per second
 *                 (all routes together)
 *   throttleBurst the API stage's throttling, token-bucket size (requests at once)
 */
'use strict';

const OFF = ['none', ''];

/**
 * A limit parameter: null when switched off, else a positive number (an integer when `integer`).
 * Anything else fails the package/deploy with the parameter's name, so a typo never deploys an
 * unlimited (or a fully throttled) API.
 */
async function limit(resolveVariable, name, { integer }) {
  const raw = await resolveVariable(`param:${name}`);
  const text = String(raw ?? '').trim();
  if (OFF.includes(text.toLowerCase())) return null;
  const value = Number(text);
  if (!Number.isFinite(value) || value < 0 || (integer && !Number.isInteger(value))) {
    throw new Error(`${name} must be a positive ${integer ? 'integer' : 'number'} or "none", got "${text}"`);
  }
  if (value === 0) {
    throw new Error(
      `${name}=0 would refuse every request; use ${name}=none to leave the limit out` +
        (name === 'reservedConcurrency'
          ? " (to take the API offline on purpose, set the function's concurrency to 0 with the AWS CLI)"
          : ''),
    );
  }
  return value;
}

module.exports = {
  limit,

  /** functions.api.reservedConcurrency; null (with serverless.yml's `, null` fallback) omits the property. */
  reservedConcurrency: async ({ resolveVariable }) => limit(resolveVariable, 'reservedConcurrency', { integer: true }),

  /**
   * The HTTP API stage's DefaultRouteSettings (every route of the `$default` stage). osls has no
   * option for HTTP API throttling, so serverless.yml sets this through `resources.extensions`
   * on the stage it generates (HttpApiStage). Extensions replace a property as a whole, so this
   * object is the stage's whole DefaultRouteSettings: osls's own entry in it is
   * DetailedMetricsEnabled from provider.httpApi.metrics, which scripts/serverless/http-api.js
   * does not set (so it was absent, i.e. false, before too).
   */
  defaultRouteSettings: async ({ resolveVariable }) => {
    const rate = await limit(resolveVariable, 'throttleRate', { integer: false });
    const burst = await limit(resolveVariable, 'throttleBurst', { integer: true });
    return {
      DetailedMetricsEnabled: false,
      ...(rate === null ? {} : { ThrottlingRateLimit: rate }),
      ...(burst === null ? {} : { ThrottlingBurstLimit: burst }),
    };
  },
};
