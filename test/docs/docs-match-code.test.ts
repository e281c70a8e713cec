/**
 * The docs' tables checked against the code. Approach: CHECK, not generate —
 * the markdown tables stay hand-written prose, and this test parses them and compares them with
 * what the code reads and returns, both ways:
 *
 * - Environment variables: every variable read under src/ or scripts/ (`process.env.X`, `env.X`,
 *   `env['X']`, `(env, 'X'` reader calls, shell `${X:-default}`, LIMIT_VARIABLES) appears in a
 *   table whose first column is "Variable" in README.md, docs/api.md, docs/operations.md or
 *   docs/model-loading.md; and every variable documented there is read somewhere.
 * - Error codes: docs/operations.md's "Error codes" table lists exactly the codes of the API's one
 *   table (ERROR_TABLE in src/api/error-table.ts, Apollo's codes included), each with its HTTP status;
 *   every code the lower layers' errors carry is answered by a row of it; docs/model-loading.md's
 *   loader error table lists exactly the loader's reasons (ModelLoadReason).
 * - Defaults: the Default columns that state a number or true/false equal DEFAULT_LIMITS, the
 *   production cache size and the loader's defaults (`loadModelLoadingConfig({})`); prose defaults
 *   ("off in production") are left to the posture table, checked against `loadApiConfig`.
 */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import {
  DEFAULT_LIMITS,
  DEFAULT_PRODUCTION_RESPONSE_CACHE_BYTES,
  LIMIT_VARIABLES,
  loadApiConfig,
  type ApiLimits,
} from '../../src/server/config';
import { ERROR_TABLE } from '../../src/api/errors';
import { REQUEST_BUDGET, budgetTableRow } from '../../src/server/request-budget';
import { loadModelLoadingConfig } from '../../src/model/loading/config';
import { parseTables, type Table, tableVariables, parseDefault } from './markdown-tables';

const ROOT = path.resolve(__dirname, '..', '..');
const read = (file: string) => readFileSync(path.join(ROOT, file), 'utf8');
const DOCS = ['README.md', 'docs/api.md', 'docs/operations.md', 'docs/model-loading.md'];

/**
 * Variables read in the code that the docs' tables deliberately leave out; each says why.
 * Runtime variables that AWS Lambda itself sets (AWS_LAMBDA_*) are left out by pattern below.
 */
const UNDOCUMENTED_ON_PURPOSE: Readonly<Record<string, string>> = {
  // The bench's parent process passes these to its own child processes (bench/child/).
  BENCH_MODE: 'bench-internal',
  BENCH_QUESTION: 'bench-internal',
  BENCH_CONTEXT: 'bench-internal',
  BENCH_API_FIRST: 'bench-internal',
  BENCH_WARM_UP: 'bench-internal',
  // scripts/build-ide.ts *defines* process.env.NODE_ENV for the bundler; nothing reads it.
  NODE_ENV: 'build-time define',
};

/** Documented variables that our code does not read because a library reads them itself. */
const READ_BY_A_LIBRARY: Readonly<Record<string, string>> = {
  POWERTOOLS_LOG_LEVEL: '@aws-lambda-powertools/logger',
  POWERTOOLS_LOGGER_SAMPLE_RATE: '@aws-lambda-powertools/logger',
};

function sourceFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    if (name === 'node_modules' || name === 'generated') continue;
    const full = path.join(dir, name);
    if (statSync(full).isDirectory()) out.push(...sourceFiles(full));
    else if (/\.(ts|mts|js|mjs|cjs|sh)$/.test(name)) out.push(full);
  }
  return out;
}

/** Environment variables named in source text (see the file comment for the forms). */
export function variablesReadIn(text: string, isShell: boolean): Set<string> {
  const found = new Set<string>();
  const name = '([A-Z][A-Z0-9_]*[A-Z0-9])';
  const patterns = isShell
    ? [new RegExp(`\\$\\{${name}:?-`, 'g')]
    : [
        new RegExp(`\\benv\\??\\.${name}\\b`, 'g'),
        new RegExp(`\\benv\\[['"]${name}['"]\\]`, 'g'),
        new RegExp(`\\(env, ['"]${name}['"]`, 'g'),
      ];
  for (const re of patterns) for (const m of text.matchAll(re)) found.add(m[1]!);
  return found;
}

function variablesReadInCode(): Map<string, string[]> {
  const where = new Map<string, string[]>();
  const add = (v: string, file: string) => where.set(v, [...(where.get(v) ?? []), file]);
  for (const file of [...sourceFiles(path.join(ROOT, 'src')), ...sourceFiles(path.join(ROOT, 'scripts')), ...sourceFiles(path.join(ROOT, 'bench'))]) {
    const rel = path.relative(ROOT, file);
    for (const v of variablesReadIn(readFileSync(file, 'utf8'), file.endsWith('.sh'))) add(v, rel);
  }
  for (const v of Object.values(LIMIT_VARIABLES)) add(v, 'src/server/config.ts (LIMIT_VARIABLES)');
  return where;
}

const docTables: Array<{ file: string; table: Table }> = DOCS.flatMap((file) =>
  parseTables(read(file)).map((table) => ({ file, table })),
);
const variableTables = docTables.filter(({ table }) => /^variable$/i.test(table.header[0] ?? ''));

function documentedVariables(): Map<string, string[]> {
  const where = new Map<string, string[]>();
  for (const { file, table } of variableTables) {
    for (const row of table.rows) {
      for (const v of tableVariables(row[0] ?? '')) where.set(v, [...(where.get(v) ?? []), file]);
    }
  }
  return where;
}

const matches = (documented: string, name: string) =>
  documented.endsWith('*') ? name.startsWith(documented.slice(0, -1)) : documented === name;

describe('environment variables: docs tables ⇄ code', () => {
  const read = variablesReadInCode();
  const documented = documentedVariables();

  it('finds the variables (the scan itself works)', () => {
    expect(read.has('API_STAGE')).toBe(true);
    expect(read.has('MODEL_S3_PART_BYTES')).toBe(true);
    expect(documented.has('MODEL_URI')).toBe(true);
  });

  it('every variable the code reads is in a docs table', () => {
    const missing = [...read.keys()]
      .filter((v) => !v.startsWith('AWS_LAMBDA_') && !(v in UNDOCUMENTED_ON_PURPOSE))
      .filter((v) => ![...documented.keys()].some((d) => !d.endsWith('*') && d === v))
      .map((v) => `${v} (read in ${read.get(v)!.join(', ')})`);
    expect(missing).toEqual([]);
  });

  it('every documented variable is read somewhere', () => {
    const unread = [...documented.keys()]
      .filter((d) => !(d in READ_BY_A_LIBRARY))
      .filter((d) => ![...read.keys()].some((v) => matches(d, v)))
      .map((d) => `${d} (documented in ${documented.get(d)!.join(', ')})`);
    expect(unread).toEqual([]);
  });

  it('the allow-lists name only variables that exist', () => {
    for (const v of Object.keys(UNDOCUMENTED_ON_PURPOSE)) expect(read.has(v)).toBe(true);
    for (const v of Object.keys(READ_BY_A_LIBRARY)) expect(documented.has(v)).toBe(true);
  });
});

/** The codes in a table's first column, as `CODE` cells. */
function firstColumnCodes(table: Table): string[] {
  return table.rows.flatMap((row) => [...(row[0] ?? '').matchAll(/`([A-Z][A-Z_]+)`/g)].map((m) => m[1]!));
}

function tableUnder(file: string, heading: RegExp): Table {
  const found = docTables.find((t) => t.file === file && heading.test(t.table.heading));
  if (!found) throw new Error(`${file}: no table under a heading matching ${heading}`);
  return found.table;
}

describe('error codes: docs tables ⇄ code', () => {
  /** HTTP cells read as their first status ("503 + `Retry-After: 5`" → 503). */
  const statusCell = (cell: string) => Number(/\d{3}/.exec(cell)?.[0]);

  it("docs/operations.md's error-code table lists exactly ERROR_TABLE's codes, each with its HTTP status", () => {
    const rows = new Map(Object.entries(ERROR_TABLE).map(([code, row]) => [code, row.status]));
    expect(rows.get('GRAPHQL_PARSE_FAILED')).toBe(400);
    // Apollo sends PERSISTED_QUERY_NOT_SUPPORTED only with `persistedQueries: false`; apollo.ts
    // leaves automatic persisted queries on, so it cannot occur (the docs must list it if that changes).
    expect(read('src/server/apollo.ts')).not.toMatch(/persistedQueries:\s*false/);
    rows.delete('PERSISTED_QUERY_NOT_SUPPORTED');
    const table = tableUnder('docs/operations.md', /^Error codes$/);
    const statusColumn = table.header.findIndex((h) => /^HTTP$/i.test(h));
    expect(statusColumn).toBeGreaterThan(0);
    const listed = new Map(table.rows.flatMap((row) => firstColumnCodes({ ...table, rows: [row] }).map((code) => [code, statusCell(row[statusColumn] ?? '')] as const)));
    expect([...listed.keys()].sort()).toEqual([...rows.keys()].sort());
    expect(Object.fromEntries(listed)).toEqual(Object.fromEntries(rows));
    // A Retry-After the code sends is stated in its HTTP cell.
    for (const [code, row] of Object.entries(ERROR_TABLE)) {
      if (!('retryAfterSeconds' in row)) continue;
      const cell = table.rows.find((r) => firstColumnCodes({ ...table, rows: [r] }).includes(code))?.[statusColumn] ?? '';
      expect([code, cell]).toEqual([code, expect.stringContaining(`Retry-After: ${row.retryAfterSeconds}`)]);
    }
  });

  it("every `code` the engine's, loader's and request scope's errors carry is answered by a row of ERROR_TABLE", () => {
    // `readonly code = 'X'` (or `readonly code: T = 'X'`) in src/model and src/api: each must be in
    // some row's `from`, or toGraphQLError would mask it as an unexpected INTERNAL_SERVER_ERROR.
    const declared = new Set<string>();
    for (const dir of ['model', 'api']) {
      for (const file of sourceFiles(path.join(ROOT, 'src', dir))) {
        for (const m of readFileSync(file, 'utf8').matchAll(/readonly code(?::[^=]+)? = '([A-Z_]+)'/g)) declared.add(m[1]!);
      }
    }
    expect([...declared]).toEqual(expect.arrayContaining(['INVALID_INPUT', 'OVER_BUDGET', 'INFERENCE_FAILED', 'MODEL_UNAVAILABLE', 'DEADLINE_EXCEEDED']));
    const answered = new Set<string>(Object.values(ERROR_TABLE).flatMap((row) => ('from' in row ? [...row.from] : [])));
    expect([...declared].filter((c) => !answered.has(c))).toEqual([]);
  });

  it("docs/model-loading.md's loader error table lists exactly the loader's reasons", () => {
    const source = read('src/model/loading/errors.ts');
    const union = /export type ModelLoadReason =([^;]*);/.exec(source)?.[1] ?? '';
    const reasons = [...union.matchAll(/'([A-Z_]+)'/g)].map((m) => m[1]!);
    expect(reasons.length).toBeGreaterThan(5);
    const table = tableUnder('docs/model-loading.md', /^Errors/);
    const listed = table.rows.flatMap((row) => [...(row[0] ?? '').matchAll(/\(([A-Z_]+)\)/g)].map((m) => m[1]!));
    expect([...listed].sort()).toEqual([...reasons].sort());
  });
});

describe('request budget: docs table = REQUEST_BUDGET', () => {
  it("docs/operations.md's \"Request budget\" table is REQUEST_BUDGET, row for row", () => {
    const table = tableUnder('docs/operations.md', /^Request budget$/);
    expect(table.header).toEqual(['Axis', 'Limit', 'Variable', 'Default', 'Enforced where', 'Code']);
    expect(table.rows).toEqual(REQUEST_BUDGET.map(budgetTableRow));
  });

  it('each axis names its variable, the default the configuration parsers use, and a code of ERROR_TABLE that is not Apollo\'s', () => {
    const axes = REQUEST_BUDGET.map((row) => row.axis);
    expect(axes).toEqual(
      expect.arrayContaining(['CPU', 'Response bytes', 'Time', 'Waiting for the model', 'Memory kept: parsed documents', 'Memory kept: persisted queries', 'Memory kept: responses']),
    );
    expect(new Set(axes).size).toBe(axes.length);
    // The parsers' defaults with nothing set (production, where every cache is on).
    const api = loadApiConfig({ API_STAGE: 'prod' });
    const parsed: Record<string, number> = {
      ...Object.fromEntries(Object.entries(LIMIT_VARIABLES).map(([field, variable]) => [variable, api.limits[field as keyof ApiLimits]])),
      API_DOCUMENT_CACHE_BYTES: api.documentCacheBytes,
      API_PERSISTED_QUERY_CACHE_BYTES: api.persistedQueryCacheBytes,
      API_RESPONSE_CACHE_BYTES: api.responseCacheBytes,
      MODEL_MAX_WAIT_MS: loadModelLoadingConfig({}, ROOT).maxWaitMs,
    };
    for (const row of REQUEST_BUDGET) {
      expect(parseDefault(budgetTableRow(row)[3]!)).toBe(parsed[row.setting.variable]);
      if (row.code !== null) expect(ERROR_TABLE[row.code]).not.toHaveProperty('apollo');
    }
  });
});

describe('defaults: docs tables = code', () => {
  const loader = loadModelLoadingConfig({}, ROOT);
  const expected: Record<string, number | boolean | string> = {
    API_RESPONSE_CACHE_BYTES: DEFAULT_PRODUCTION_RESPONSE_CACHE_BYTES,
    API_DOCUMENT_CACHE_BYTES: loadApiConfig({}).documentCacheBytes,
    API_PERSISTED_QUERY_CACHE_BYTES: loadApiConfig({}).persistedQueryCacheBytes,
    API_MASK_ERRORS: loadApiConfig({}).maskErrors,
    API_LOG_REQUEST_TEXT: loadApiConfig({}).logRequestText,
    MODEL_QUANTIZED: loader.preferQuantized,
    S3_FORCE_PATH_STYLE: loader.s3.forcePathStyle,
    MODEL_S3_CONNECT_TIMEOUT_MS: loader.s3.connectionTimeoutMs,
    MODEL_S3_IDLE_TIMEOUT_MS: loader.s3.idleTimeoutMs,
    MODEL_S3_FIRST_BYTE_TIMEOUT_MS: loader.s3.firstByteTimeoutMs!,
    MODEL_MAX_WAIT_MS: loader.maxWaitMs,
    MODEL_S3_TOTAL_TIMEOUT_MS: loader.s3.totalTimeoutMs,
    MODEL_S3_PART_BYTES: loader.s3.partBytes!,
    MODEL_S3_CONCURRENCY: loader.s3.concurrency!,
    MODEL_S3_PART_ATTEMPTS: loader.s3.partAttempts!,
    MODEL_RETRY_INITIAL_MS: loader.retry.initialMs,
    MODEL_RETRY_MAX_MS: loader.retry.maxMs,
    HF_ENDPOINT: loader.hub.endpoint,
    MODEL_HUB_REPO: loader.hub.repo,
    MODEL_HUB_REVISION: loader.hub.revision,
    MODEL_HUB_TIMEOUT_MS: loader.hub.timeoutMs,
    MODEL_CACHE_DIR: '.cache/models',
  };
  for (const key of Object.keys(LIMIT_VARIABLES) as Array<keyof ApiLimits>) expected[LIMIT_VARIABLES[key]] = DEFAULT_LIMITS[key];

  it('every Default column agrees with the code', () => {
    const wrong: string[] = [];
    let checked = 0;
    for (const { file, table } of variableTables) {
      const col = table.header.findIndex((h) => /^default$/i.test(h));
      if (col < 0) continue;
      for (const row of table.rows) {
        const names = tableVariables(row[0] ?? '');
        const cell = row[col] ?? '';
        // One default per variable: split a multi-variable row's cell on "/" or ",".
        const parts = names.length === 1 ? [cell] : cell.split(/\s*\/\s*|,\s+/);
        if (parts.length !== names.length) continue;
        names.forEach((name, i) => {
          if (!(name in expected)) return;
          const stated = parseDefault(parts[i]!);
          if (stated === undefined) return;
          checked++;
          const want = expected[name]!;
          const ok = typeof want === 'string' && typeof stated === 'string'
            ? want.includes(stated) || stated.includes(want)
            : stated === want;
          if (!ok) wrong.push(`${file}: ${name} documented as "${parts[i]!.trim()}", code says ${String(want)}`);
        });
      }
    }
    expect(wrong).toEqual([]);
    // The limits alone are stated twice (api.md and operations.md): the parser must see them.
    expect(checked).toBeGreaterThan(2 * Object.keys(LIMIT_VARIABLES).length);
  });

  it("docs/operations.md's posture table agrees with loadApiConfig in production and development", () => {
    const table = tableUnder('docs/operations.md', /^Production posture$/);
    const prod = loadApiConfig({ API_STAGE: 'prod' });
    const dev = loadApiConfig({ API_STAGE: 'dev' });
    const field: Record<string, keyof typeof prod> = {
      API_INTROSPECTION: 'introspection',
      API_IDE: 'ide',
      API_MASK_ERRORS: 'maskErrors',
      API_LOG_REQUESTS: 'logRequests',
      API_LOG_REQUEST_TEXT: 'logRequestText',
    };
    let checked = 0;
    for (const row of table.rows) {
      const [name] = tableVariables(row[0] ?? '');
      if (!name || !(name in field)) continue;
      expect([name, parseDefault(row[1]!)]).toEqual([name, prod[field[name]!]]);
      expect([name, parseDefault(row[2]!)]).toEqual([name, dev[field[name]!]]);
      checked++;
    }
    expect(checked).toBe(Object.keys(field).length);
  });
});
