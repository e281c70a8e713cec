/**
 * The error codes of a response Apollo writes, recorded where Apollo makes each error: its
 * `formatError`, which every error Apollo sends passes through, an operation's or one Apollo
 * answers before any operation runs (a CSRF refusal, a GET whose variables are not JSON, a context
 * that failed). Apollo calls formatError with the error alone, never with the request it is for,
 * so the request core runs Apollo inside `collectCodes` and the formatter `recordingCodes` makes
 * finds that request's list in its async context (AsyncLocalStorage). The core then carries the
 * list in its response as a value (CoreResponse.codes); nothing reads codes back from a body.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { GraphQLFormattedError } from 'graphql';
import { ErrorCode } from '../api/errors';

export type FormatError = (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError;

const collection = new AsyncLocalStorage<string[]>();

/** The code an error is counted under: its `extensions.code`, or INTERNAL_SERVER_ERROR without one. */
export function codeOf(error: Pick<GraphQLFormattedError, 'extensions'>): string {
  const code = error.extensions?.code;
  return typeof code === 'string' ? code : ErrorCode.INTERNAL_SERVER_ERROR;
}

/** `format`, recording the code of each error it returns in the collection it runs in (if any). */
export function recordingCodes(format: FormatError): FormatError {
  return (formatted, error) => {
    const sent = format(formatted, error);
    collection.getStore()?.push(codeOf(sent));
    return sent;
  };
}

/**
 * Starts `run` (Apollo's handling of one HTTP request) in a collection of its own: `codes` lists the
 * code of each error Apollo formats for it, in order, and is complete when `result` settles.
 */
export function collectCodes<T>(run: () => Promise<T>): { result: Promise<T>; codes: readonly string[] } {
  const codes: string[] = [];
  return { result: collection.run(codes, run), codes };
}
