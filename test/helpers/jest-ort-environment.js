/**
 * Jest's node environment, with the host's typed-array constructors instead of the sandbox's.
 *
 * Why: jest runs each test file in its own V8 context, so the sandbox's `Float32Array` is a
 * different function from the one onnxruntime-node's native addon uses to create output tensors.
 * onnxruntime-common then fails its `data instanceof Float32Array` check on every run, with
 * "A float32 tensor's data must be type of function Float32Array()". Sharing the host's typed
 * arrays (and ArrayBuffer/DataView, so `.buffer instanceof ArrayBuffer` still holds) fixes it, and
 * also makes Node's Buffer (host-realm) pass `instanceof Uint8Array` in tests.
 *
 * Use per file with the docblock `@jest-environment ./test/helpers/jest-ort-environment.js`,
 * or for the whole suite as `testEnvironment` in jest.config.js.
 */
'use strict';
const { TestEnvironment } = require('jest-environment-node');

const SHARED = [
  'ArrayBuffer',
  'SharedArrayBuffer',
  'DataView',
  'Int8Array',
  'Uint8Array',
  'Uint8ClampedArray',
  'Int16Array',
  'Uint16Array',
  'Int32Array',
  'Uint32Array',
  'Float32Array',
  'Float64Array',
  'BigInt64Array',
  'BigUint64Array',
];

class OrtTestEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of SHARED) {
      if (typeof globalThis[name] === 'function') this.global[name] = globalThis[name];
    }
  }
}

module.exports = OrtTestEnvironment;
