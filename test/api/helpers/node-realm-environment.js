/**
 * Jest's node environment runs tests in a separate V8 realm, so its Float32Array is not the one
 * native addons use: onnxruntime-node builds output tensors from the addon's (main realm) typed
 * arrays, and onnxruntime-common, loaded inside the sandbox, rejects them with "A float32
 * tensor's data must be type of function Float32Array()". Sharing the main realm's typed-array
 * constructors with the sandbox makes both sides agree. Used by API tests that run the real
 * engine (docblock `@jest-environment ./test/api/helpers/node-realm-environment.js`).
 */
const { TestEnvironment } = require('jest-environment-node');

const TYPED_ARRAYS = [
  'ArrayBuffer', 'SharedArrayBuffer', 'Int8Array', 'Uint8Array', 'Uint8ClampedArray', 'Int16Array', 'Uint16Array',
  'Int32Array', 'Uint32Array', 'Float32Array', 'Float64Array', 'BigInt64Array', 'BigUint64Array',
];

class NodeRealmEnvironment extends TestEnvironment {
  constructor(config, context) {
    super(config, context);
    for (const name of TYPED_ARRAYS) this.global[name] = globalThis[name];
  }
}

module.exports = NodeRealmEnvironment;
