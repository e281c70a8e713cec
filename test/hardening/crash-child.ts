/**
 * Replays the abuse suite and the cost attacks against both transports in a process of its own,
 * where an unhandled rejection or an uncaught exception ends the process (Node's default), as it
 * ends a Lambda sandbox or `npm start`. Run by crash.test.ts:
 *
 *   node --import tsx test/hardening/crash-child.ts <unavailable|working|self-check>
 *
 * `unavailable`: the model cannot be loaded (every answer fails with MODEL_UNAVAILABLE);
 * `working`: the tiny model. `self-check` leaves a rejection unhandled on purpose, to show that
 * this harness does die of one. Prints one JSON line with what it sent, then exits 0.
 */
import { createApi } from '../../src/server/api';
import { apiConfig } from '../../src/server/config';
import { listen } from '../../src/local-server';
import { fixedModel, UnavailableProvider, loadTinyModel } from '../api/helpers/engines';
import { CASES } from './helpers/abuse-cases';
import { COST_ATTACKS, prose } from './helpers/cost-attacks';
import { gql, lambdaTransport, localTransport, validRequest, type Req } from './helpers/transports';

const MB = 1024 * 1024;

async function main(mode: string): Promise<void> {
  if (mode === 'self-check') {
    void Promise.reject(new Error('deliberately unhandled'));
    await new Promise((r) => setTimeout(r, 1_000));
    return;
  }
  const provider = mode === 'working' ? fixedModel((await loadTinyModel()).engine) : new UnavailableProvider();
  const api = () =>
    createApi({
      config: apiConfig({
        production: true,
        introspection: false,
        ide: false,
        corsOrigins: ['https://app.example.com'],
        limits: { maxBodyBytes: 12 * MB },
      }),
      provider,
      ideAssetsDir: null,
      logSink: () => undefined,
    });
  const server = await listen(api(), { port: 0, host: '127.0.0.1' });
  const transports = [lambdaTransport(api()), localTransport(server)];
  // The crash the issue found: the sixth input of one answerMany over the request's text budget,
  // while the model is unavailable (the first five were queued and rejected unobserved).
  const budgetTrigger: Req = gql(
    'query($i: [AnswerInput!]!) { answerMany(inputs: $i) { answers { text } error { code } } }',
    {
      i: Array.from({ length: 6 }, (_, k) => ({ question: `Where ${k}?`, context: prose(3_300, k) })),
    },
  );
  const requests: Req[] = [...CASES.map((c) => c.req), ...COST_ATTACKS.map((a) => a.req), budgetTrigger];
  const statuses = new Map<number, number>();
  let sent = 0;
  for (const transport of transports) {
    for (const req of requests) {
      const res = await transport(req);
      statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
      sent += 1;
    }
  }
  // Give anything left unobserved the time to surface (and kill this process).
  await new Promise((r) => setTimeout(r, 500));
  const last = await transports[1]!(validRequest());
  await server.close();
  process.stdout.write(
    `${JSON.stringify({ mode, sent, statuses: Object.fromEntries(statuses), lastStatus: last.status, alive: true })}\n`,
  );
}

main(process.argv[2] ?? 'working').then(
  () => process.exit(0),
  (error: unknown) => {
    console.error(error);
    process.exit(2);
  },
);
