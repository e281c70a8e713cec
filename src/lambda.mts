/**
 * The Lambda entry (ESM): `await ready` at top level makes the model load during INIT.
 * The first import starts unpacking onnxruntime's library, in parallel with the model download the
 * second one starts (order matters: see lambda-onnxruntime.ts).
 */
import './lambda-onnxruntime';
import { handler, ready } from './handler';

await ready;

export { handler };
