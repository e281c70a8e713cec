/**
 * The one parser for environment variables: every reader under src/ and scripts/ goes through
 * these functions, so a word means the same thing in every variable and every error names the
 * variable and what it accepts. Imports nothing from src/ (anything may use it, first of all).
 *
 * Accepted forms (docs/api.md, "Configuration"):
 * - Booleans: true/false, 1/0, yes/no, on/off, y/n, t/f, in any case. The same words as
 *   Powertools' own variables (POWERTOOLS_METRICS_DISABLED, read by it and by us), so no variable
 *   of the process takes a word another refuses.
 * - Integers: digits, optionally grouped with `_` (`50_000`); no sign, fraction or exponent.
 * - Unset, empty or blank means "not set": the default applies.
 */

/** An environment: process.env, or a plain object in tests. */
export type Env = Readonly<Record<string, string | undefined>>;

/** Thrown at start-up for a malformed variable, so a typo never silently means "default". */
export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/** `NAME must be <accepts>, got "<raw>"`: the one shape of every configuration error. */
export function invalid(name: string, accepts: string, raw: string): ConfigError {
  return new ConfigError(`${name} must be ${accepts}, got "${raw}"`);
}

/** The trimmed value, or undefined when unset or blank. */
export function str(env: Env, name: string): string | undefined {
  const value = env[name]?.trim();
  return value === undefined || value === '' ? undefined : value;
}

const TRUE_WORDS: ReadonlySet<string> = new Set(['true', '1', 'yes', 'on', 'y', 't']);
const FALSE_WORDS: ReadonlySet<string> = new Set(['false', '0', 'no', 'off', 'n', 'f']);
export const BOOLEAN_ACCEPTS = 'true or false (also 1/0, yes/no, on/off, y/n, t/f; any case)';

/** A boolean, or undefined when unset. */
export function optionalBool(env: Env, name: string): boolean | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  const word = raw.toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw invalid(name, BOOLEAN_ACCEPTS, raw);
}

export function bool(env: Env, name: string, fallback: boolean): boolean {
  return optionalBool(env, name) ?? fallback;
}

export interface IntRange {
  /** Smallest value accepted (default 0). */
  min?: number;
  /** Largest value accepted (default Number.MAX_SAFE_INTEGER). */
  max?: number;
  /** What a special value means, added to the error message (e.g. "0 turns it off"). */
  note?: string;
}

function describeRange({ min = 0, max = Number.MAX_SAFE_INTEGER, note }: IntRange): string {
  const range =
    max < Number.MAX_SAFE_INTEGER
      ? `an integer from ${min} to ${max}`
      : min === 1
        ? 'a positive integer'
        : `an integer >= ${min}`;
  return note ? `${range} (${note})` : range;
}

/** An integer within `range`, or undefined when unset. */
export function optionalInt(env: Env, name: string, range: IntRange = {}): number | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  const { min = 0, max = Number.MAX_SAFE_INTEGER } = range;
  const value = /^-?\d+(?:_\d+)*$/.test(raw) ? Number(raw.replace(/_/g, '')) : NaN;
  if (!Number.isSafeInteger(value) || value < min || value > max) throw invalid(name, describeRange(range), raw);
  return value;
}

export function int(env: Env, name: string, fallback: number, range: IntRange = {}): number {
  return optionalInt(env, name, range) ?? fallback;
}

/** One of `values` (exact, case-sensitive), or undefined when unset. */
export function oneOf<T extends string>(env: Env, name: string, values: readonly T[]): T | undefined {
  const raw = str(env, name);
  if (raw === undefined) return undefined;
  if (!(values as readonly string[]).includes(raw)) throw invalid(name, `one of ${values.join(', ')}`, raw);
  return raw as T;
}

/** A comma-separated list, items trimmed, empty items dropped; [] when unset. */
export function list(env: Env, name: string): string[] {
  return (str(env, name) ?? '')
    .split(',')
    .map((item) => item.trim())
    .filter((item) => item !== '');
}

/**
 * The function's memory in MB on Lambda, else undefined. A runtime variable Lambda sets, not
 * configuration: read, never validated.
 */
export function lambdaMemoryMb(env: Env = process.env): number | undefined {
  const mb = Number(env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE);
  return Number.isFinite(mb) && mb > 0 ? mb : undefined;
}
