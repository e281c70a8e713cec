import { describe, expect, it } from '@jest/globals';
import type { GraphQLFormattedError } from 'graphql';
import { codeOf, collectCodes, recordingCodes } from '../../src/server/sent-codes';

/** A formatter that masks every error without a code, as createFormatError does in production. */
const format = recordingCodes((formatted: GraphQLFormattedError) =>
  formatted.extensions?.code ? formatted : { message: 'masked' },
);
const error = (code?: string): GraphQLFormattedError => ({ message: 'm', ...(code ? { extensions: { code } } : {}) });
const tick = () => new Promise((resolve) => setImmediate(resolve));

describe('sent codes', () => {
  it('the code an error is counted under: the one it is sent with, else INTERNAL_SERVER_ERROR', () => {
    expect(codeOf(error('BAD_USER_INPUT'))).toBe('BAD_USER_INPUT');
    expect(codeOf(error())).toBe('INTERNAL_SERVER_ERROR');
    expect(codeOf({ extensions: { code: 42 } })).toBe('INTERNAL_SERVER_ERROR');
  });

  it('records the code of what the formatter returns, in order', async () => {
    const { result, codes } = collectCodes(async () => {
      format(error('A'), null);
      await tick();
      format(error(), null);
      format(error('A'), null);
      return 'done';
    });
    expect(await result).toBe('done');
    expect(codes).toEqual(['A', 'INTERNAL_SERVER_ERROR', 'A']);
  });

  it('keeps concurrent requests apart, across awaits', async () => {
    const request = (code: string, n: number) =>
      collectCodes(async () => {
        for (let i = 0; i < n; i += 1) {
          await tick();
          format(error(code), null);
        }
      });
    const a = request('A', 3);
    const b = request('B', 2);
    await Promise.all([a.result, b.result]);
    expect([a.codes, b.codes]).toEqual([
      ['A', 'A', 'A'],
      ['B', 'B'],
    ]);
  });

  it('formats as before, and records nothing, outside a collection', () => {
    expect(format(error(), null)).toEqual({ message: 'masked' });
    const { codes } = collectCodes(async () => undefined);
    format(error('A'), null);
    expect(codes).toEqual([]);
  });
});
