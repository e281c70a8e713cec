/**
 * The API's logger: Powertools' Logger, shared by both transports, one JSON object per line with
 * the Lambda fields (`cold_start`, `function_request_id`, `correlation_id`) where there are some.
 * What is logged stays decided by request-log.ts; this file only maps its entries to Logger calls.
 * Settings are Powertools' own variables (docs/operations.md, "Reading the logs").
 */
import { LogLevel, Logger } from '@aws-lambda-powertools/logger';
import type { LoadLogger } from '../model/loading/types';
import type { LogSink } from '../api/context';

import { SERVICE_NAME, serviceName } from '../support/json-log';
import { invalid, str, type Env } from '../support/env';

/** The service name on every log line and metric, unless POWERTOOLS_SERVICE_NAME says otherwise. */
export { SERVICE_NAME };

/** Powertools' log levels (any case); for any other value it logs at INFO without a word. */
const LOG_LEVELS: readonly string[] = Object.values(LogLevel);

export function createLogger(env: Env = process.env): Logger {
  // Powertools reads POWERTOOLS_LOG_LEVEL and POWERTOOLS_LOGGER_SAMPLE_RATE itself, and takes a
  // misspelt level for INFO without a word: refuse it here instead. An explicit serviceName would
  // override POWERTOOLS_SERVICE_NAME, so it is only the fallback.
  const level = str(env, 'POWERTOOLS_LOG_LEVEL');
  if (level !== undefined && !LOG_LEVELS.includes(level.toUpperCase())) {
    throw invalid('POWERTOOLS_LOG_LEVEL', `one of ${LOG_LEVELS.join(', ')} (any case)`, level);
  }
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
