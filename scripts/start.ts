/**
 * `npm start`: the API on http://localhost:4000/graphql (PORT, HOST) with the same Apollo
 * configuration as Lambda, the model from MODEL_URI (a local folder or S3) or else the default
 * (Hub cache, Hub pull, demo model), and the IDE.
 */
import { loadApiConfig } from '../src/server/config';
import { createApi } from '../src/server/api';
import { createModelProvider } from '../src/model/loading/provider';
import { demoNoticePlugin } from '../src/server/demo-notice';
import { defaultModelSource } from '../src/model/loading/hub-source';
import { listen } from '../src/local-server';
import { createLogger, loadLogger } from '../src/server/logger';
import { int, str, type Env } from '../src/support/env';
import { ensureDemoModel } from './model-generator';
import { forTerminal } from './terminal-text';

/** What `npm start` prints when no model could be loaded. */
const NO_MODEL_HELP = [
  'To get a model, do one of:',
  '  • MODEL_URI=/path/to/folder npm start   (a Hugging Face style folder: tokenizer.json, config.json,',
  '                                           onnx/model_quantized.onnx or onnx/model.onnx)',
  '  • MODEL_URI=s3://bucket/prefix/ npm start   (or s3://bucket/model.tar.gz; AWS credentials from the environment)',
  '  • npm run model -- pull                 (downloads the default DistilBERT-SQuAD from the Hugging Face Hub',
  '                                           into .cache/models, used by `npm start` without MODEL_URI)',
  '  • npm run models:generate               (a random-weight demo model, meaningless answers; then',
  '                                           MODEL_URI=<the folder it prints> npm start)',
].join('\n');

/** Where `npm start` listens: PORT (0 picks a free port) and HOST. */
function listenAddress(env: Env = process.env): { port: number; host: string } {
  return { port: int(env, 'PORT', 4000, { max: 65_535 }), host: str(env, 'HOST') ?? 'localhost' };
}

async function main(): Promise<void> {
  const config = loadApiConfig();
  const address = listenAddress();
  // The loader's lines (pull, load started / loaded / failed, the demo-model warning) go through
  // the same Powertools Logger as the request lines: one JSON object each, as on Lambda. The plain
  // lines below are the start-up summary, each on a line of its own between them.
  const logger = createLogger();
  // The demo model's generator lives here in scripts/, not in src/: production code cannot reach it.
  const provider = createModelProvider({
    env: process.env,
    defaultSource: defaultModelSource({ demoModel: ensureDemoModel }),
    logger: loadLogger(logger),
  });
  // The demo model says so in every response (src/server/demo-notice.ts).
  const api = createApi({ config, provider, logger, plugins: [demoNoticePlugin()] });
  const running = await listen(api, address);
  console.log(`GraphQL endpoint: ${running.url}`);
  if (api.ideAssets) console.log(`GraphiQL IDE:     ${running.url}  (open it in a browser)`);

  console.log('Loading the model…');
  if (await provider.warmUp()) {
    const info = provider.info()!;
    // The name and source come from the model's files: escaped (terminal-text.ts).
    console.log(
      `Model ready: ${forTerminal(info.name)} from ${forTerminal(info.source)} (${info.quantized ? 'int8' : 'fp32'}, ${info.timings.totalMs} ms)`,
    );
    if (info.demo) console.log('Note: this is the random-weight demo model; its answers mean nothing.');
  } else {
    const reason = provider.error()?.message ?? 'unknown error';
    console.log('Model load failed:');
    console.log(`\n${forTerminal(reason)}\n`);
    console.log(`${NO_MODEL_HELP}\n`);
    console.log('The server keeps running: answer requests return MODEL_UNAVAILABLE (HTTP 503) and retry the load.');
  }
  const stop = () => void running.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
