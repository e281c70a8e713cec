// Lint: typescript-eslint's strict rules, plus the type-aware rules that catch unhandled promises
// (a server whose every request is async must never drop a rejection). Prettier owns the layout:
// eslint-config-prettier turns off every rule that would fight it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: [
      'node_modules/',
      'dist/',
      '.build/',
      '.serverless/',
      '.cache/',
      'coverage/',
      '/test-models/',
      '/models/',
      'src/generated/',
      'src/client/generated/',
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts'],
    languageOptions: {
      parserOptions: {
        project: ['./tsconfig.json', './bench/tsconfig.json', './tsconfig.ide.json', './tsconfig.lambda.json'],
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      // `!` marks a lookup the code has just made sure of (a key it set, a group that matched, an
      // index inside the bounds it checked); the rule would trade each for a branch that cannot run.
      '@typescript-eslint/no-non-null-assertion': 'off',
      // `_name` and rest siblings (`const { stacktrace: _, ...rest } = …`) are unused on purpose.
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  {
    files: ['**/*.js', '**/*.cjs', '**/*.mjs'],
    languageOptions: { globals: globals.node },
    // CommonJS files (jest's and osls's plugins) load modules the only way they can.
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Tests and the lab read JSON they did not type (responses, fixtures, CloudFormation); the
    // product (src/) stays strict.
    files: ['test/**', 'scripts/**', 'docs/**'],
    rules: { '@typescript-eslint/no-explicit-any': 'off' },
  },
  {
    // Tests load modules afresh (require after resetting a cache) and unset variables by name.
    files: ['test/**'],
    rules: { '@typescript-eslint/no-require-imports': 'off', '@typescript-eslint/no-dynamic-delete': 'off' },
  },
  prettier,
);
