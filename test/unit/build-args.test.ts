/** scripts/build-lambda.ts's command line (node:util parseArgs): what `npm run package:*` passes, and mistakes refused. */
import { describe, expect, test } from '@jest/globals';
import { parseBuildArgs } from '../../scripts/build-lambda';

describe('parseBuildArgs', () => {
  test('bundle only, by default on the prod stage', () => {
    expect(parseBuildArgs([])).toEqual({ target: undefined, stage: 'prod', params: {}, verbose: false });
  });

  test('what package:x86_64 and the README pass', () => {
    const args = [
      '--package',
      'x86_64',
      '--stage',
      'dev',
      '--param=modelBucket=my-models',
      '--param=modelPrefix=a=b/',
      '--verbose',
    ];
    expect(parseBuildArgs(args)).toEqual({
      target: 'x86_64',
      stage: 'dev',
      params: { modelBucket: 'my-models', modelPrefix: 'a=b/' },
      verbose: true,
    });
  });

  test.each([
    [['--stgae', 'dev'], /Unknown option '--stgae'/],
    [['--package'], /--package <value>' argument missing/],
    [['x86_64'], /Unexpected argument 'x86_64'/],
    [['--param=modelBucket'], /--param needs name=value, got "modelBucket"/],
  ])('%j is refused', (args, message) => {
    expect(() => parseBuildArgs(args)).toThrow(message);
  });
});
