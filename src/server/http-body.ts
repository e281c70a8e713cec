/**
 * Turning a raw HTTP body into what Apollo expects, with the limits Apollo does not enforce:
 * body size and HTTP batch length (Apollo runs any number of batched operations concurrently).
 * Shared by the Lambda adapter and the local server so both answer bad requests identically.
 */
import { ErrorCode, HttpRequestError } from '../api/errors';

export interface BodyLimits {
  maxBodyBytes: number;
  maxBatchOperations: number;
}

/** `atLeast`: only a lower bound of the size is known (a chunked body refused part-way). */
export function checkBodySize(bytes: number, limits: BodyLimits, atLeast = false): void {
  if (bytes > limits.maxBodyBytes) {
    throw new HttpRequestError(
      `The request body is ${atLeast ? 'at least ' : ''}${bytes} bytes; the limit is ${limits.maxBodyBytes}.`,
      ErrorCode.PAYLOAD_TOO_LARGE,
    );
  }
}

/**
 * Parses a request body by its content type, as Apollo's own integrations do: JSON is parsed,
 * text/plain stays a string (Apollo then rejects it for POST with a clear message), anything
 * else becomes '' (likewise rejected by Apollo).
 */
export function parseBody(text: string, contentType: string | undefined, limits: BodyLimits): unknown {
  checkBodySize(Buffer.byteLength(text), limits);
  if (text === '') return '';
  const type = contentType?.toLowerCase() ?? '';
  if (type.startsWith('application/json') || type.startsWith('application/graphql-response+json')) {
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch (error) {
      throw new HttpRequestError(`Invalid JSON in the request body${jsonErrorPlace(error)}.`, ErrorCode.BAD_REQUEST);
    }
    if (Array.isArray(body) && body.length > limits.maxBatchOperations) {
      throw new HttpRequestError(
        `The HTTP batch has ${body.length} operations; the limit is ${limits.maxBatchOperations}.`,
        ErrorCode.BATCH_TOO_LARGE,
      );
    }
    return body;
  }
  if (type.startsWith('text/plain')) return text;
  return '';
}

/**
 * Where JSON.parse stopped, as V8 states it (" at line 1, column 8"), or '' when it does not say.
 * Only the numbers are kept: V8's message may quote the start of the input ("Unexpected token 'm',
 * "my secret "... is not valid JSON"), and no part of a request is ever echoed in a message.
 */
function jsonErrorPlace(error: unknown): string {
  const message = error instanceof Error ? error.message : '';
  const lineColumn = /\(line (\d+) column (\d+)\)/.exec(message);
  if (lineColumn) return ` at line ${lineColumn[1]}, column ${lineColumn[2]}`;
  const position = /at position (\d+)/.exec(message);
  return position ? ` at character ${position[1]}` : '';
}

/** The body of an error response: the GraphQL response shape, so clients parse it as usual. */
export function errorResponseBody(error: HttpRequestError): string {
  return JSON.stringify({ errors: [{ message: error.message, extensions: { code: error.code } }] });
}

export const JSON_CONTENT_TYPE = 'application/json; charset=utf-8';
