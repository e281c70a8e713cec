/**
 * The installed onnxruntime-node's version, read from its package.json without loading the native
 * library (load.ts: the loader picks its files before anything loads onnxruntime).
 */
import { createRequire } from 'node:module';

let ownVersion: string | undefined;

/** As resolved from `requireFrom` (default: this module, cached). */
export function installedOnnxRuntimeVersion(requireFrom?: NodeJS.Require): string {
  if (!requireFrom) return (ownVersion ??= readVersion(createRequire(__filename)));
  return readVersion(requireFrom);
}

function readVersion(requireFrom: NodeJS.Require): string {
  return (requireFrom(requireFrom.resolve('onnxruntime-node/package.json')) as { version: string }).version;
}
