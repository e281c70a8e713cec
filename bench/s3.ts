/**
 * The local S3 server for the cold-start row: the project's own test helper (s3rver on 127.0.0.1,
 * configured as docs/model-loading.md, "Configuration", says for emulators), with the model folder uploaded once by `npm run model -- push`'s
 * own code (the version it publishes by default: the int8 graph the loader serves and its standard file).
 */
import { pushModel } from '../scripts/model-cli/push';
import { startS3, type TestS3 } from '../test/helpers/s3rver';

export const BUCKET = 'models';
export const PREFIX = 'distilbert-full/';

/** Starts s3rver and uploads the model folder under `s3://models/distilbert-full/`. */
export async function startS3WithModel(modelDir: string): Promise<{ s3: TestS3; uri: string }> {
  const s3 = await startS3([BUCKET]);
  const uri = `s3://${BUCKET}/${PREFIX}`;
  await pushModel(modelDir, uri, { client: s3.client });
  return { s3, uri };
}
