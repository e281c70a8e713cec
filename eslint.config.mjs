// Lint: typescript-eslint's strict rules, plus the type-aware rules that catch unhandled promises
// (a server whose every request is async must never drop a rejection). Prettier owns the layout:
// eslint-config-prettier turns off every rule that would fight it.
import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import globals from 'globals';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  {
    ignores: ['node_modules/', 'dist/', '.build/', '.serverless/', '.cache/', 'coverage/', 'test-models/', 'models/', 'src/generated/', 'src/client/generated/'],
  },
  js.configs.recommended,
  ...tseslint.configs.strict,
  {
    files: ['**/*.ts', '**/*.tsx', '**/*.mts'],
    languageOptions: { parserOptions: { project: ['./tsconfig.json', './tsconfig.ide.json', './tsconfig.lambda.json'], tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/await-thenable': 'error',
    },
  },
  { files: ['**/*.js', '**/*.cjs', '**/*.mjs'], languageOptions: { globals: globals.node } },
  {
    // Tests and tools index arrays they have just checked; `!` there says so without ceremony.
    files: ['test/**', 'scripts/**'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  prettier,
);
