import { QAInputError } from '../../src/model/errors';
import { DEFAULT_QA_OPTIONS, resolveOptions } from '../../src/model/options';

const limits = { maxPositions: 512, minSeqLength: 5 };

function rejection(options: Record<string, unknown>): QAInputError {
  try {
    resolveOptions(options as any, limits);
  } catch (error) {
    expect(error).toBeInstanceOf(QAInputError);
    return error as QAInputError;
  }
  throw new Error('expected a rejection');
}

describe('resolveOptions', () => {
  it("uses the reference pipeline's defaults", () => {
    expect(resolveOptions(undefined, limits)).toEqual({
      topK: 1,
      maxAnswerLength: 15,
      docStride: 128,
      maxSeqLength: 384,
      handleImpossibleAnswer: false,
      alignToWords: true,
    });
    expect(resolveOptions({ topK: null } as any, limits)).toEqual(DEFAULT_QA_OPTIONS);
  });

  it('follows the reference for smaller windows: maxSeqLength capped by the model, docStride at most half', () => {
    expect(resolveOptions(undefined, { maxPositions: 256, minSeqLength: 5 })).toMatchObject({
      maxSeqLength: 256,
      docStride: 128,
    });
    expect(resolveOptions({ maxSeqLength: 200 }, limits)).toMatchObject({ maxSeqLength: 200, docStride: 100 });
  });

  it.each([
    [{ topK: 0 }, 'topK', 'topK must be an integer from 1 to 9007199254740991 (got 0)'],
    [{ topK: 1.5 }, 'topK', 'topK must be an integer from 1 to 9007199254740991 (got 1.5)'],
    [
      { maxAnswerLength: 0 },
      'maxAnswerLength',
      'maxAnswerLength must be an integer from 1 to 9007199254740991 (got 0)',
    ],
    [{ maxSeqLength: 600 }, 'maxSeqLength', 'maxSeqLength must be an integer from 5 to 512 (got 600)'],
    [{ maxSeqLength: 3 }, 'maxSeqLength', 'maxSeqLength must be an integer from 5 to 512 (got 3)'],
    [{ docStride: 384 }, 'docStride', 'docStride must be an integer from 0 to 383 (got 384)'],
    [{ docStride: -1 }, 'docStride', 'docStride must be an integer from 0 to 383 (got -1)'],
    [{ alignToWords: 'yes' }, 'alignToWords', 'alignToWords must be true or false (got yes)'],
    [{ temperature: 2 }, 'temperature', 'Unknown option temperature'],
  ])('rejects %j naming the option', (options, field, message) => {
    const error = rejection(options);
    expect(error.field).toBe(field);
    expect(error.message).toBe(message);
    expect(error.code).toBe('INVALID_INPUT');
  });
});
