/** The shared environment parser (src/support/env.ts): one vocabulary, exact integers, named errors. */
import { readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ConfigError, bool, int, list, oneOf, optionalBool, optionalInt, str } from '../../src/support/env';
import { loadApiConfig } from '../../src/server/config';
import { loadModelLoadingConfig } from '../../src/model/loading/config';
import { createLogger } from '../../src/server/logger';
import { findIdeAssetsDir } from '../../src/ide/assets';

// Powertools parses its own variables (POWERTOOLS_METRICS_DISABLED, which src/server/api.ts reads
// too) with this function: the outside reference for which words mean true and false.

const powertools = require('@aws-lambda-powertools/commons/utils/env') as {
  getBooleanFromEnv(options: { key: string; extendedParsing: boolean }): boolean;
};

function powertoolsReads(word: string): boolean | 'error' {
  const key = 'ENV_TEST_POWERTOOLS_BOOLEAN';
  process.env[key] = word;
  try {
    return powertools.getBooleanFromEnv({ key, extendedParsing: true });
  } catch {
    return 'error';
  } finally {
    delete process.env[key];
  }
}

const TRUE_WORDS = ['true', '1', 'yes', 'on', 'y', 't'];
const FALSE_WORDS = ['false', '0', 'no', 'off', 'n', 'f'];
const caseVariants = (word: string) => [word, word.toUpperCase(), word[0]!.toUpperCase() + word.slice(1), ` ${word} `];

describe('booleans', () => {
  it.each(TRUE_WORDS.flatMap(caseVariants))('"%s" is true, as Powertools reads it', (word) => {
    expect(bool({ X: word }, 'X', false)).toBe(true);
    expect(powertoolsReads(word.trim())).toBe(true);
  });

  it.each(FALSE_WORDS.flatMap(caseVariants))('"%s" is false, as Powertools reads it', (word) => {
    expect(bool({ X: word }, 'X', true)).toBe(false);
    expect(powertoolsReads(word.trim())).toBe(false);
  });

  it.each(['maybe', 'yes please', '2', 'enabled', 'truthy', '-1', 'nope'])(
    '"%s" is refused, by Powertools too, with the variable and the accepted words',
    (word) => {
      expect(powertoolsReads(word)).toBe('error');
      expect(() => bool({ API_IDE: word }, 'API_IDE', true)).toThrow(ConfigError);
      expect(() => bool({ API_IDE: word }, 'API_IDE', true)).toThrow(
        `API_IDE must be true or false (also 1/0, yes/no, on/off, y/n, t/f; any case), got "${word}"`,
      );
    },
  );

  it('unset, empty or blank means the default', () => {
    for (const env of [{}, { X: '' }, { X: '   ' }, { X: undefined }]) {
      expect(bool(env, 'X', true)).toBe(true);
      expect(bool(env, 'X', false)).toBe(false);
      expect(optionalBool(env, 'X')).toBeUndefined();
    }
  });

  it('every boolean variable of both configurations takes the same words (the bug: MODEL_QUANTIZED=yes worked, API_IDE=yes threw)', () => {
    for (const [yes, no] of [
      ['yes', 'no'],
      ['on', 'off'],
      ['1', '0'],
      ['TRUE', 'False'],
    ]) {
      expect(
        loadApiConfig({
          API_IDE: yes,
          API_INTROSPECTION: yes,
          API_MASK_ERRORS: no,
          API_LOG_REQUESTS: yes,
          API_LOG_REQUEST_TEXT: no,
        }),
      ).toMatchObject({
        ide: true,
        introspection: true,
        maskErrors: false,
        logRequests: true,
        logRequestText: false,
      });
      expect(loadModelLoadingConfig({ MODEL_QUANTIZED: no, S3_FORCE_PATH_STYLE: yes })).toMatchObject({
        preferQuantized: false,
        s3: { forcePathStyle: true },
      });
    }
  });
});

describe('integers', () => {
  it('reads digits, grouped with _ or not, and trims', () => {
    expect(int({ N: '42' }, 'N', 7)).toBe(42);
    expect(int({ N: ' 50_000 ' }, 'N', 7)).toBe(50_000);
    expect(int({ N: '0' }, 'N', 7)).toBe(0);
    expect(int({}, 'N', 7)).toBe(7);
    expect(optionalInt({ N: '' }, 'N')).toBeUndefined();
  });

  it.each(['1.5', '1.0', '1e3', '0x10', 'ten', '5_', '_5', '1__0', '9007199254740993', '+3', 'Infinity'])(
    '"%s" is not an integer',
    (raw) => {
      expect(() => int({ N: raw }, 'N', 1)).toThrow(ConfigError);
      expect(() => int({ N: raw }, 'N', 1)).toThrow(`N must be an integer >= 0, got "${raw}"`);
    },
  );

  it('1.5 is refused where the old loader accepted it', () => {
    expect(() => loadModelLoadingConfig({ MODEL_S3_CONNECT_TIMEOUT_MS: '1.5' })).toThrow(
      'MODEL_S3_CONNECT_TIMEOUT_MS must be an integer >= 0, got "1.5"',
    );
    expect(() => loadApiConfig({ API_MAX_INPUTS: '1.5' })).toThrow(
      'API_MAX_INPUTS must be a positive integer, got "1.5"',
    );
  });

  it('checks the range, inclusive, and says what it is', () => {
    const range = { min: 1, max: 64 };
    expect(int({ N: '1' }, 'N', 8, range)).toBe(1);
    expect(int({ N: '64' }, 'N', 8, range)).toBe(64);
    for (const raw of ['0', '65', '-1'])
      expect(() => int({ N: raw }, 'N', 8, range)).toThrow(`N must be an integer from 1 to 64, got "${raw}"`);
    expect(() => int({ N: '0' }, 'N', 8, { min: 1 })).toThrow('N must be a positive integer, got "0"');
    expect(() => int({ N: '2' }, 'N', 8, { min: 3 })).toThrow('N must be an integer >= 3, got "2"');
    expect(() => int({ N: '-1' }, 'N', 8, { note: '0 turns it off' })).toThrow(
      'N must be an integer >= 0 (0 turns it off), got "-1"',
    );
  });

  it('the range applies to what the variable says, never to the default', () => {
    expect(int({}, 'N', 0, { min: 1 })).toBe(0);
  });
});

describe('strings, lists and enums', () => {
  it('trims strings; blank is unset', () => {
    expect(str({ S: '  a b  ' }, 'S')).toBe('a b');
    expect(str({ S: ' ' }, 'S')).toBeUndefined();
  });

  it('splits lists on commas, dropping blanks', () => {
    expect(list({ L: ' a, b ,,c ' }, 'L')).toEqual(['a', 'b', 'c']);
    expect(list({}, 'L')).toEqual([]);
  });

  it('takes one of the listed values, exactly, and names them when refusing', () => {
    const modes = ['cold', 'serve'] as const;
    expect(oneOf({ M: ' serve ' }, 'M', modes)).toBe('serve');
    expect(oneOf({}, 'M', modes)).toBeUndefined();
    expect(() => oneOf({ M: 'Cold' }, 'M', modes)).toThrow('M must be one of cold, serve, got "Cold"');
  });
});

describe('both configurations fail with ConfigError naming the variable', () => {
  it.each([
    ['API_MAX_TOP_K', () => loadApiConfig({ API_MAX_TOP_K: 'many' })],
    ['API_CORS_ORIGINS', () => loadApiConfig({ API_CORS_ORIGINS: 'app.example.com' })],
    ['MODEL_THREADS', () => loadModelLoadingConfig({ MODEL_THREADS: '65' })],
    ['MODEL_QUANTIZED', () => loadModelLoadingConfig({ MODEL_QUANTIZED: 'int8' })],
    [
      'MODEL_RETRY_MAX_MS',
      () => loadModelLoadingConfig({ MODEL_RETRY_INITIAL_MS: '5000', MODEL_RETRY_MAX_MS: '1000' }),
    ],
    // Powertools itself would log at INFO without a word.
    ['POWERTOOLS_LOG_LEVEL', () => createLogger({ POWERTOOLS_LOG_LEVEL: 'verbose' })],
    // A folder named on purpose that holds no build: not a silent fall-back to another one.
    ['IDE_ASSETS_DIR', () => findIdeAssetsDir({ IDE_ASSETS_DIR: path.join(__dirname, 'no-such-ide-build') })],
  ])('%s', (name, load) => {
    expect(load).toThrow(ConfigError);
    expect(load).toThrow(new RegExp(`^${name} must be `));
  });
});

describe('values the libraries take are accepted', () => {
  it('every Powertools log level, in any case', () => {
    for (const level of ['trace', 'DEBUG', 'Info', 'warn', 'ERROR', 'critical', 'silent']) {
      expect(() => createLogger({ POWERTOOLS_LOG_LEVEL: level })).not.toThrow();
    }
  });
});

describe('parsed once', () => {
  it('no module under src/ or scripts/ reads a variable except through src/support/env.ts', () => {
    const root = path.resolve(__dirname, '..', '..');
    const files = (dir: string): string[] =>
      readdirSync(dir).flatMap((name) => {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) return name === 'node_modules' || name === 'generated' ? [] : files(full);
        return /\.(ts|mts|js|cjs|mjs)$/.test(name) ? [full] : [];
      });
    // `env.NAME` or `env['NAME']`, process.env included: a read that bypasses the parser.
    const direct = /\benv\??\.[A-Z][A-Z0-9_]*\b|\benv\[['"`]/g;
    const allowed: Record<string, string> = {
      'src/support/env.ts': 'the parser itself',
      // A string the bundler replaces, not a read.
      'scripts/build-ide.ts': "define: { 'process.env.NODE_ENV': ... }",
    };
    const found = [...files(path.join(root, 'src')), ...files(path.join(root, 'scripts'))]
      .map((file) => path.relative(root, file))
      .filter((file) => !(file in allowed))
      .flatMap((file) => (readFileSync(path.join(root, file), 'utf8').match(direct) ?? []).map((m) => `${file}: ${m}`));
    expect(found).toEqual([]);
  });
});
