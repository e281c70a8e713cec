/** @type {import('jest').Config} */
module.exports = {
  // onnxruntime-node checks typed arrays with instanceof: share the host realm's (see the file).
  testEnvironment: '<rootDir>/test/helpers/jest-ort-environment.js',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  setupFiles: ['<rootDir>/test/setup-env.js'],
  transform: { '^.+\\.ts$': ['ts-jest', { tsconfig: 'tsconfig.json' }] },
  // Model generation and ONNX sessions are CPU-bound; two workers match the machines' two cores.
  maxWorkers: 2,
  testTimeout: 120000,
  reporters: ['default', '<rootDir>/test/summary-reporter.js'],
};
