import { defaultIntraOpThreads } from '../../src/model/threads';
import { loadModelLoadingConfig } from '../../src/model/loading/config';

describe('defaultIntraOpThreads', () => {
  it('uses every core off Lambda', () => {
    expect(defaultIntraOpThreads({ cores: 2 })).toBe(2);
    expect(defaultIntraOpThreads({ cores: 8 })).toBe(8);
  });
  it('on Lambda, uses the vCPUs the memory size buys, never more than the cores shown', () => {
    expect(defaultIntraOpThreads({ cores: 2, lambdaMemoryMb: 1024 })).toBe(1);
    expect(defaultIntraOpThreads({ cores: 2, lambdaMemoryMb: 1769 })).toBe(1);
    expect(defaultIntraOpThreads({ cores: 2, lambdaMemoryMb: 3538 })).toBe(2);
    expect(defaultIntraOpThreads({ cores: 6, lambdaMemoryMb: 10240 })).toBe(5);
    expect(defaultIntraOpThreads({ cores: 2, lambdaMemoryMb: 10240 })).toBe(2);
  });
});

describe('MODEL_THREADS', () => {
  it('is passed through when set and left to the engine when not', () => {
    expect(loadModelLoadingConfig({ MODEL_THREADS: '1' }).threads).toBe(1);
    expect(loadModelLoadingConfig({}).threads).toBeUndefined();
  });
  it('rejects a value that is not a thread count, naming the variable', () => {
    expect(() => loadModelLoadingConfig({ MODEL_THREADS: '0' })).toThrow(
      'MODEL_THREADS must be an integer from 1 to 64, got "0"',
    );
    expect(() => loadModelLoadingConfig({ MODEL_THREADS: 'two' })).toThrow(/MODEL_THREADS/);
  });
});
