/**
 * The demo page (demo.html, served by the API at `<stage>/ide/demo.html` where the IDE is on):
 * a context, several questions, and the top-k answers of each highlighted at their offsets.
 *
 * Every question is its own typed query (src/client/operations.ts), issued together: the
 * client's BatchHttpLink sends them as one HTTP request, which the API answers with one engine
 * call. The page counts its HTTP requests and shows the count, so the batching is visible.
 */
import { CombinedGraphQLErrors } from '@apollo/client';
import { createBatchingClient } from '../client/client';
import { AnswersQuery } from '../client/operations';
import type { AnswersQuery as AnswersResult } from '../client/generated/graphql';
import { DEMO_CONTEXT, DEMO_QUESTIONS } from './example';
import { pieces } from './highlight';

type Answer = NonNullable<AnswersResult['answers']>[number];
interface Result {
  question: string;
  answers: Answer[] | null;
  error: string | null;
}

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const form = $<HTMLFormElement>('form');
const contextInput = $<HTMLTextAreaElement>('context-input');
const questionsInput = $<HTMLTextAreaElement>('questions');
const topKInput = $<HTMLInputElement>('topk');
const impossibleInput = $<HTMLInputElement>('impossible');
const askButton = $<HTMLButtonElement>('ask');
const status = $<HTMLDivElement>('status');
const results = $<HTMLElement>('results');
const tabs = $<HTMLDivElement>('tabs');
const contextView = $<HTMLDivElement>('context');
const answersList = $<HTMLOListElement>('answers');

// The page is `<stage>/ide/demo.html`; the endpoint is `<stage>/graphql` unless ?endpoint= says.
const endpoint = new URLSearchParams(location.search).get('endpoint') ?? new URL('../graphql', location.href).href;
let httpRequests = 0;
const client = createBatchingClient({
  uri: endpoint,
  fetch: (input, init) => {
    httpRequests += 1;
    return fetch(input, init);
  },
});

contextInput.value = DEMO_CONTEXT;
questionsInput.value = DEMO_QUESTIONS.join('\n');

let shown: { context: string; results: Result[] } | null = null;

form.addEventListener('submit', (event) => {
  event.preventDefault();
  void ask();
});

async function ask(): Promise<void> {
  const context = contextInput.value;
  const questions = questionsInput.value
    .split('\n')
    .map((q) => q.trim())
    .filter((q) => q !== '');
  if (questions.length === 0) return setStatus('Type at least one question.', true);
  const topK = Math.max(1, Math.min(20, Math.trunc(Number(topKInput.value)) || 1));
  const options = impossibleInput.checked ? { handleImpossibleAnswer: true } : null;
  askButton.disabled = true;
  setStatus('Asking…', false);
  const before = httpRequests;
  const started = performance.now();
  // Issued in the same tick: the BatchHttpLink sends them as one request.
  const settled = await Promise.allSettled(
    questions.map((question) =>
      client.query({
        query: AnswersQuery,
        variables: { question, context, topK, options },
        fetchPolicy: 'network-only',
      }),
    ),
  );
  const ms = Math.round(performance.now() - started);
  const requests = httpRequests - before;
  askButton.disabled = false;
  const list: Result[] = settled.map((s, i) =>
    s.status === 'fulfilled'
      ? { question: questions[i]!, answers: s.value.data?.answers ?? [], error: null }
      : { question: questions[i]!, answers: null, error: errorMessage(s.reason) },
  );
  shown = { context, results: list };
  setStatus(
    `${questions.length} question${questions.length === 1 ? '' : 's'} · ${requests} HTTP request${requests === 1 ? '' : 's'} · ${ms} ms`,
    false,
  );
  results.hidden = false;
  select(0);
}

function errorMessage(error: unknown): string {
  if (CombinedGraphQLErrors.is(error)) return error.errors.map((e) => e.message).join('; ');
  return error instanceof Error ? error.message : String(error);
}

function setStatus(text: string, isError: boolean): void {
  status.textContent = text;
  status.classList.toggle('error', isError);
}

/** Shows question `index`: its highlights in the context and its answers, best first. */
function select(index: number): void {
  if (!shown) return;
  const { context, results: list } = shown;
  tabs.replaceChildren(
    ...list.map((r, i) => {
      const b = document.createElement('button');
      b.type = 'button';
      b.textContent = r.question;
      b.setAttribute('aria-pressed', String(i === index));
      b.addEventListener('click', () => select(i));
      return b;
    }),
  );
  const result = list[index]!;
  const answers = result.answers ?? [];
  contextView.replaceChildren(
    ...pieces(context, answers).map((piece) => {
      if (piece.rank === null) return document.createTextNode(piece.text);
      const mark = document.createElement('mark');
      mark.dataset.rank = String(piece.rank);
      mark.textContent = piece.text;
      return mark;
    }),
  );
  answersList.replaceChildren(
    ...(result.error !== null
      ? [item(`Error: ${result.error}`, 'error')]
      : answers.length === 0
        ? [item('No span of the context could be extracted.', 'no-answer')]
        : answers.map((a, rank) => answerItem(a, rank))),
  );
  scrollToRank(0);
}

function item(text: string, className: string): HTMLLIElement {
  const li = document.createElement('li');
  li.className = className;
  li.textContent = text;
  return li;
}

function answerItem(answer: Answer, rank: number): HTMLLIElement {
  const li = document.createElement('li');
  li.dataset.rank = String(rank);
  const score = document.createElement('span');
  score.className = 'score';
  score.textContent = ` score ${answer.score.toFixed(4)}`;
  if (answer.start === answer.end) {
    // The empty answer of handleImpossibleAnswer: "the context does not answer the question".
    li.classList.add('no-answer');
    li.append('No answer in the context', score);
    return li;
  }
  const swatch = document.createElement('mark');
  swatch.className = 'swatch';
  swatch.dataset.rank = String(rank);
  const text = document.createElement('button');
  text.type = 'button';
  text.className = 'text';
  text.textContent = `“${answer.text}”`;
  text.addEventListener('click', () => scrollToRank(rank));
  const where = document.createElement('span');
  where.className = 'score';
  where.textContent = ` [${answer.start}–${answer.end})`;
  li.append(swatch, text, score, where);
  return li;
}

/** Scrolls the context box (not the page) so the answer's highlight is in the middle of it. */
function scrollToRank(rank: number): void {
  const mark = contextView.querySelector<HTMLElement>(`mark[data-rank="${rank}"]`);
  if (!mark) return;
  const box = contextView.getBoundingClientRect();
  const at = mark.getBoundingClientRect();
  contextView.scrollTop += at.top - box.top - (contextView.clientHeight - at.height) / 2;
}
