/**
 * The bench's per-request phases (src/support/phase-marks.ts, bench/phases.ts): the marks
 * come in the order the breakdown assumes, once per window, from the real engine and DataLoader; and
 * a record is split into phases as the interval arithmetic says (expected values worked by hand).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ensureTestModel } from '../../scripts/model-generator';
import { phasesOf, type PhaseRecord } from '../../bench/phases';
import { fixedModel } from '../../src/model/loading/fixed-model';
import { QuestionAnswerer } from '../../src/model/question-answerer';
import { createAnswerLoader } from '../../src/resolvers/answer-loader';
import { recordPhases, type PhaseMark } from '../../src/support/phase-marks';

let engine: QuestionAnswerer;
const marks: Array<[PhaseMark, number]> = [];

beforeAll(async () => {
  const dir = await ensureTestModel({ size: 'tiny', variant: 'distilbert' });
  engine = await QuestionAnswerer.create({
    model: join(dir, 'onnx/model_quantized.onnx'),
    tokenizerJson: readFileSync(join(dir, 'tokenizer.json'), 'utf8'),
    config: JSON.parse(readFileSync(join(dir, 'config.json'), 'utf8')),
    intraOpNumThreads: 1,
  });
});
afterAll(() => engine.dispose());
beforeEach(() => {
  marks.length = 0;
  recordPhases((mark, at) => marks.push([mark, at]));
});
afterEach(() => recordPhases(undefined));

const WINDOW = ['window-turn', 'run-start', 'run-end'];
const context = 'The museum opens at nine in the morning and closes at six in the evening, every day but Monday.';

test('through the DataLoader: engine start, prepared, each window turn → run, engine end; time never goes back', async () => {
  const loader = createAnswerLoader(fixedModel(engine));
  await loader.load({ question: 'When does it open?', context });
  expect(marks.map(([m]) => m)).toEqual(['engine-start', 'prepared', ...WINDOW, 'engine-end']);
  for (let i = 1; i < marks.length; i++) expect(marks[i]![1]).toBeGreaterThanOrEqual(marks[i - 1]![1]);
});

test('the window marks repeat once per window the engine runs', async () => {
  const before = engine.windowsRun;
  await engine.answer({ question: 'When does it open?', context, options: { maxSeqLength: 24, docStride: 8 } });
  const windows = engine.windowsRun - before;
  expect(windows).toBeGreaterThan(1);
  expect(marks.map(([m]) => m)).toEqual(['prepared', ...Array.from({ length: windows }, () => WINDOW).flat()]);
});

test('nothing is recorded once recording is off', async () => {
  recordPhases(undefined);
  await engine.answer({ question: 'When does it open?', context });
  expect(marks).toEqual([]);
});

describe('phasesOf', () => {
  test('each interval goes to the phase its closing mark ends; the client gets its time minus the server span', () => {
    const record: PhaseRecord = [
      ['request', 100],
      ['engine-start', 101],
      ['prepared', 103],
      ['window-turn', 103.5],
      ['run-start', 104],
      ['run-end', 110],
      ['engine-end', 110.5],
      ['response', 112],
    ];
    // Server span 12 ms, client 13 ms.
    expect(phasesOf(record, 13)).toEqual({
      client: 1,
      before: 1,
      tokenize: 2,
      turn: 0.5,
      tensors: 0.5,
      run: 6,
      search: 0.5,
      after: 1.5,
    });
  });

  test("two windows' phases add up; the span search of the first window counts as the second's turn", () => {
    const record: PhaseRecord = [
      ['request', 0],
      ['engine-start', 1],
      ['prepared', 2],
      ['window-turn', 3],
      ['run-start', 4],
      ['run-end', 9],
      ['window-turn', 10],
      ['run-start', 11],
      ['run-end', 17],
      ['engine-end', 18],
      ['response', 20],
    ];
    expect(phasesOf(record, 20)).toEqual({
      client: 0,
      before: 1,
      tokenize: 1,
      turn: 2,
      tensors: 2,
      run: 11,
      search: 1,
      after: 2,
    });
  });

  test('a record that does not run from request to response is refused', () => {
    expect(() =>
      phasesOf(
        [
          ['engine-start', 0],
          ['response', 1],
        ],
        1,
      ),
    ).toThrow(/request to response/);
  });
});
