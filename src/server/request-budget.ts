/**
 * The request budget: every axis a request's cost is bounded on, with its limit, the variable and
 * default that set it, where it is enforced and the code a client gets. docs/operations.md's
 * "Request budget" table is this one (test/docs/docs-match-code.test.ts compares them); a new
 * bound adds its row here and there.
 */
import type { ERROR_TABLE } from '../api/errors';
import { DEFAULT_LIMITS, LIMIT_VARIABLES, type ApiLimits } from './config';

export interface BudgetAxis {
  /** What is bounded. */
  readonly axis: string;
  /** The limit, in the unit the work is done in. */
  readonly limit: string;
  /** The configuration field (ApiLimits) that sets it: its variable and default follow. */
  readonly setting: keyof ApiLimits;
  /** How the default follows from the deployment. */
  readonly derivation: string;
  /** Where it is enforced (and when: before work, or as it happens). */
  readonly enforced: string;
  /** The `extensions.code` a request over it gets. */
  readonly code: keyof typeof ERROR_TABLE;
}

export const REQUEST_BUDGET: readonly BudgetAxis[] = Object.freeze([
  {
    axis: 'Request bytes',
    limit: 'bytes of the HTTP body',
    setting: 'maxBodyBytes',
    derivation: 'far under Lambda\'s 6 MB request payload; contexts within the limits fit in far less',
    enforced: 'the transports and src/server/http-body.ts, before JSON parsing (the local server stops reading)',
    code: 'PAYLOAD_TOO_LARGE',
  },
  {
    axis: 'Tokenizer',
    limit: 'characters of questions and contexts, all operations together',
    setting: 'maxRequestTextLength',
    derivation: 'five maximal contexts; tokenizing them takes tens of milliseconds',
    enforced: 'the resolvers, before tokenizing (src/resolvers/validation.ts)',
    code: 'BAD_USER_INPUT',
  },
  {
    axis: 'CPU',
    limit: 'model windows (one ONNX run each), all operations together',
    setting: 'maxRequestWindows',
    derivation: 'windows of 512 tokens on one Lambda vCPU, well within half of API Gateway\'s 30 s',
    enforced: 'the engine, by arithmetic before any window runs (src/model/work-budget.ts)',
    code: 'BAD_USER_INPUT',
  },
  {
    axis: 'Response bytes',
    limit: 'bytes of the response body, all operations together',
    setting: 'maxResponseBytes',
    derivation: '(Lambda\'s 6 MiB response payload − 64 KiB for headers) ÷ 2, since the body is escaped once more inside it',
    enforced: 'the resolvers, before any work: topK × `text` selections × the context\'s bytes as JSON (src/resolvers/output-bound.ts); the request core, on the written body',
    code: 'RESPONSE_TOO_LARGE',
  },
  {
    axis: 'Time',
    limit: 'milliseconds from arrival to response, serialization included; fields that finished keep their data',
    setting: 'requestTimeoutMs',
    derivation: 'under API Gateway\'s 30 s; on Lambda also the invocation\'s remaining time less 1 s',
    enforced: 'the request scope\'s signal (the engine stops between windows), the request core 500 ms later whatever holds it',
    code: 'DEADLINE_EXCEEDED',
  },
] as const satisfies readonly BudgetAxis[]);

/** One row of the docs' table: `| Axis | Limit | Variable | Default | Enforced where | Code |`. */
export function budgetTableRow(row: BudgetAxis): string[] {
  return [row.axis, row.limit, `\`${LIMIT_VARIABLES[row.setting]}\``, `${DEFAULT_LIMITS[row.setting]} (${row.derivation})`, row.enforced, `\`${row.code}\``];
}
