/**
 * The sizes the caches are bounded by (src/server/cache/memory-size.ts) are the heap V8 really
 * keeps: measured here with the garbage collector, over many values, against the estimate.
 */
import { getIntrospectionQuery, parse } from 'graphql';
import { documentBytes, stringBytes } from '../../src/server/cache/memory-size';
import { settledHeapBytes } from '../helpers/heap';

/**
 * The heap once it has stopped shrinking: a worker's own garbage (what earlier tests loaded) can
 * take several collections to go, and going during a measurement would make it read low.
 */
function steadyHeapBytes(): number {
  let last = settledHeapBytes();
  for (let i = 0; i < 10; i++) {
    const now = settledHeapBytes();
    if (Math.abs(now - last) < 256 * 1024) return now;
    last = now;
  }
  return last;
}

/** Heap bytes per value that `make` builds, measured once over `count` values kept alive together. */
function heapPerValueOnce<T>(count: number, make: (i: number) => T): number {
  const before = steadyHeapBytes();
  const kept = Array.from({ length: count }, (_, i) => make(i));
  const after = settledHeapBytes();
  expect(kept).toHaveLength(count);
  return (after - before) / count;
}

/**
 * The median of three measurements. In a worker that ran other test files, a full collection can
 * still release megabytes held before the measurement began, although the heap read steady just
 * before (seen in a full run: a negative size); one such drop among three samples does not move
 * the median.
 */
function heapPerValue<T>(count: number, make: (i: number) => T): number {
  const samples = [0, 1, 2].map(() => heapPerValueOnce(count, make)).sort((a, b) => a - b);
  return samples[1]!;
}

/** A flat (sequential) string, as JSON.parse or a URL decoder makes it, of `text` + a suffix. */
const flat = (text: string, i: number) => JSON.parse(JSON.stringify(`${text}${i}`)) as string;

describe('stringBytes: one byte per character for a Latin-1 string, two otherwise, as V8 keeps them', () => {
  test.each([
    ['ASCII', 'a'],
    ['Latin-1 beyond ASCII', 'é'],
    ['CJK', '問'],
    ['ASCII with one emoji', null],
  ])('%s', (_name, unit) => {
    const text = unit === null ? `${'a'.repeat(99_998)}😀` : unit.repeat(100_000);
    const measured = heapPerValue(40, (i) => flat(text, i));
    const estimate = stringBytes(flat(text, 0));
    // Equal up to the string header (tens of bytes) and measuring noise: not half, not double.
    expect(measured / estimate).toBeGreaterThan(0.9);
    expect(measured / estimate).toBeLessThan(1.1);
  });
});

describe('documentBytes: not below the heap a parsed document keeps, text and tokens included', () => {
  const shapes: Array<[string, string]> = [
    [
      'a small operation',
      'query A($q: String!, $c: String!) { answer(question: $q, context: $c) { text score start end } }',
    ],
    ["GraphiQL's introspection query", getIntrospectionQuery({ inputValueDeprecation: true, schemaDescription: true })],
    ['300 aliases', `{ ${Array.from({ length: 300 }, (_, i) => `a${i}: __typename`).join(' ')} }`],
    ['a long comment', `# ${'x'.repeat(50_000)}\n{ __typename }`],
    ['a long CJK comment', `# ${'問'.repeat(50_000)}\n{ __typename }`],
  ];
  test.each(shapes)('%s', (_name, query) => {
    const measured = heapPerValue(300, (i) => parse(`${query}\n#${i}`));
    const estimate = documentBytes(parse(`${query}\n#0`));
    expect(estimate).toBeGreaterThanOrEqual(measured);
    // An estimate, not a multiple: a bound that is mostly air would hold little.
    expect(estimate).toBeLessThan(measured * 2);
  });
});
