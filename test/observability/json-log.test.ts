/**
 * The lines written before the Powertools Logger (src/support/json-log.ts: the Lambda entry's first module,
 * lambda-onnxruntime.ts, and the default-model resolver's fallback) are JSON objects, one per line,
 * with the Logger's keys; and that first module stays light: nothing of Powertools in its imports.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
import * as path from 'node:path';
import { build } from 'esbuild';
import { jsonLineLogger, writeJsonLine } from '../../src/support/json-log';

const saved = process.env.POWERTOOLS_SERVICE_NAME;
afterEach(() => {
  if (saved === undefined) delete process.env.POWERTOOLS_SERVICE_NAME;
  else process.env.POWERTOOLS_SERVICE_NAME = saved;
});

/** Captures what is written to `stream` until restore() (which keeps the text: mockRestore clears the calls). */
function capture(stream: NodeJS.WriteStream): { text: () => string; restore: () => void } {
  const spy = jest.spyOn(stream, 'write').mockImplementation(() => true);
  let kept: string | null = null;
  const text = () => kept ?? spy.mock.calls.map((c) => String(c[0])).join('');
  return {
    text,
    restore: () => {
      kept = text();
      spy.mockRestore();
    },
  };
}

describe('json-log', () => {
  it('writes one JSON object per line, Logger-shaped, WARN and ERROR to stderr', () => {
    delete process.env.POWERTOOLS_SERVICE_NAME;
    const out = capture(process.stdout);
    const err = capture(process.stderr);
    try {
      writeJsonLine('info', 'onnxruntime library ready', {
        status: 'unpacked',
        dir: '/tmp/onnxruntime-x',
        bytes: 18_000_000,
        ms: 412,
      });
      jsonLineLogger.warn('multi\nline message', { reason: 'a "quoted" reason' });
      jsonLineLogger.error('onnxruntime library unavailable', { reason: 'ENOSPC' });
    } finally {
      out.restore();
      err.restore();
    }
    const lines = out.text().split('\n');
    expect(lines).toHaveLength(2); // one line and the final newline
    expect(lines[1]).toBe('');
    expect(JSON.parse(lines[0]!)).toEqual({
      level: 'INFO',
      message: 'onnxruntime library ready',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      service: 'serverless-qa-graphql',
      status: 'unpacked',
      dir: '/tmp/onnxruntime-x',
      bytes: 18_000_000,
      ms: 412,
    });
    const errors = err.text().split('\n');
    expect(errors).toHaveLength(3);
    expect(errors[2]).toBe('');
    expect(JSON.parse(errors[0]!)).toMatchObject({
      level: 'WARN',
      message: 'multi\nline message',
      reason: 'a "quoted" reason',
    });
    expect(JSON.parse(errors[1]!)).toMatchObject({
      level: 'ERROR',
      message: 'onnxruntime library unavailable',
      reason: 'ENOSPC',
    });
  });

  it('uses POWERTOOLS_SERVICE_NAME like the Logger', () => {
    process.env.POWERTOOLS_SERVICE_NAME = 'qa-prod';
    const out = capture(process.stdout);
    try {
      writeJsonLine('info', 'x');
    } finally {
      out.restore();
    }
    expect(JSON.parse(out.text())).toMatchObject({ service: 'qa-prod', message: 'x' });
  });

  it('the Lambda entry’s first module imports nothing of Powertools (or of the API)', async () => {
    const root = path.resolve(__dirname, '../..');
    const result = await build({
      entryPoints: [path.join(root, 'src/lambda-onnxruntime.ts')],
      bundle: true,
      platform: 'node',
      format: 'esm',
      write: false,
      metafile: true,
      logLevel: 'silent',
      external: ['onnxruntime-node'],
    });
    const inputs = Object.keys(result.metafile!.inputs);
    expect(inputs).toContain('src/support/json-log.ts');
    expect(inputs.filter((f) => /powertools|src\/server\//.test(f))).toEqual([]);
  });
});
