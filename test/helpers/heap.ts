/**
 * The heap a test's objects keep, after full garbage collections: V8's gc exposed at run time
 * (jest's workers do not start with --expose-gc).
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

/** heapUsed after collecting everything collectable (twice: weak references and finalizers). */
export function settledHeapBytes(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}
