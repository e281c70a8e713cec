/**
 * The lines written without the Powertools Logger (src/support/json-log.ts: the model loader's
 * fallback) are JSON objects, one per line, with the Logger's keys.
 */
import { afterEach, describe, expect, it, jest } from '@jest/globals';
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
      writeJsonLine('info', 'model loaded', {
        status: 'ready',
        dir: '/tmp/qa-model-load-x',
        bytes: 18_000_000,
        ms: 412,
      });
      jsonLineLogger.warn('multi\nline message', { reason: 'a "quoted" reason' });
      jsonLineLogger.error('model load failed', { reason: 'ENOSPC' });
    } finally {
      out.restore();
      err.restore();
    }
    const lines = out.text().split('\n');
    expect(lines).toHaveLength(2); // one line and the final newline
    expect(lines[1]).toBe('');
    expect(JSON.parse(lines[0]!)).toEqual({
      level: 'INFO',
      message: 'model loaded',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      service: 'serverless-qa-graphql',
      status: 'ready',
      dir: '/tmp/qa-model-load-x',
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
      message: 'model load failed',
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
});
