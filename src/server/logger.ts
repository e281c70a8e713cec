/**
 * The API's logger: Powertools for AWS Lambda's Logger, shared by both transports. It writes one
 * JSON object per line to stdout (CloudWatch Logs Insights parses them) and adds, on Lambda,
 * `cold_start`, `function_request_id` (the invocation's awsRequestId) and the function's name,
 * memory and ARN (the Lambda adapter calls `addContext`), and `correlation_id` (API Gateway's own
 * request id, `requestContext.requestId`, which its access logs carry). The local server logs
 * through the same Logger, without the Lambda fields.
 *
 * What is logged, and what never is, stays decided by request-log.ts: users' text only with
 * API_LOG_REQUEST_TEXT. This file only maps its entries to Logger calls.
 *
 * Settings are Powertools' own environment variables: POWERTOOLS_SERVICE_NAME (default below),
 * POWERTOOLS_LOG_LEVEL (default INFO), POWERTOOLS_LOGGER_SAMPLE_RATE (the share of invocations,
 * 0 to 1, whose debug lines are written; 0 by default).
 */
import { Logger } from '@aws-lambda-powertools/logger';
import type { LoadLogger } from '../model/loading/provider';
import type { LogSink } from './request-log';

import { SERVICE_NAME, serviceName } from '../json-log';

/** The service name on every log line and metric, unless POWERTOOLS_SERVICE_NAME says otherwise. */
export { SERVICE_NAME };

export function createLogger(): Logger {
  // Powertools reads POWERTOOLS_LOG_LEVEL and POWERTOOLS_LOGGER_SAMPLE_RATE itself; an explicit
  // serviceName would override POWERTOOLS_SERVICE_NAME, so it is only the fallback.
  return new Logger({ serviceName: serviceName() });
}

/**
 * A LogSink writing through `logger`. An entry's `msg` becomes Logger's `message`; an error's own
 * `message` field (internal errors) becomes `errorMessage`, since Logger's `message` is the line's.
 */
export function loggerSink(logger: Logger): LogSink {
  return (entry) => {
    const { level, msg, message, ...rest } = entry;
    const extra = message === undefined ? rest : { ...rest, errorMessage: message };
    logger[level](msg, extra);
  };
}

/** The model loader's LoadLogger over `logger` (Logger's extra-fields parameter is not optional). */
export function loadLogger(logger: Logger): LoadLogger {
  return {
    info: (message, extra) => logger.info(message, extra ?? {}),
    warn: (message, extra) => logger.warn(message, extra ?? {}),
    error: (message, extra) => logger.error(message, extra ?? {}),
  };
}
