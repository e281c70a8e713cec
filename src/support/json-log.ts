/**
 * One JSON object per line, shaped like Powertools' Logger lines (`level`, `message`, `timestamp`,
 * `service`, then the fields), for lines written where the Logger is not to be had: the model
 * loader's fallback when no logger is given. Nothing but `process` and the env parser (no
 * imports of its own) here, on purpose.
 */
import { str, type Env } from './env';

/** The service name on every log line and metric, unless POWERTOOLS_SERVICE_NAME says otherwise. */
export const SERVICE_NAME = 'serverless-qa-graphql';

/** POWERTOOLS_SERVICE_NAME, else SERVICE_NAME: what Powertools' Logger and Metrics will name. */
export function serviceName(env: Env = process.env): string {
  return str(env, 'POWERTOOLS_SERVICE_NAME') ?? SERVICE_NAME;
}

export type JsonLogLevel = 'info' | 'warn' | 'error';

/** Writes `{ level, message, timestamp, service, ...fields }` and a newline (WARN and ERROR to stderr, like Logger). */
export function writeJsonLine(level: JsonLogLevel, message: string, fields: Record<string, unknown> = {}): void {
  const line = JSON.stringify({
    level: level.toUpperCase(),
    message,
    timestamp: new Date().toISOString(),
    service: serviceName(),
    ...fields,
  });
  (level === 'info' ? process.stdout : process.stderr).write(`${line}\n`);
}

/** A LoadLogger (model/loading/provider.ts) writing JSON lines. */
export const jsonLineLogger = {
  info: (message: string, extra?: Record<string, unknown>) => writeJsonLine('info', message, extra),
  warn: (message: string, extra?: Record<string, unknown>) => writeJsonLine('warn', message, extra),
  error: (message: string, extra?: Record<string, unknown>) => writeJsonLine('error', message, extra),
};
