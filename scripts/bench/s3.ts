/**
 * The local S3 server for the cold-start row: the project's own test helper (s3rver on 127.0.0.1,
 * configured as DESIGN.md says), with the model folder uploaded once.
 */
import { readFile } from 'node:fs/promises';
import * as path from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { startS3, type TestS3 } from '../../test/helpers/s3rver';

export const BUCKET = 'models';
export const PREFIX = 'distilbert-full/';

/** Starts s3rver and uploads the files a model folder needs (both ONNX files, so precision is a choice). */
export async function startS3WithModel(modelDir: string): Promise<{ s3: TestS3; uri: string }> {
  const s3 = await startS3([BUCKET]);
  for (const file of ['config.json', 'tokenizer.json', 'onnx/model_quantized.onnx', 'onnx/model.onnx']) {
    const body = await readFile(path.join(modelDir, file));
    await s3.client.send(new PutObjectCommand({ Bucket: BUCKET, Key: PREFIX + file, Body: body }));
  }
  return { s3, uri: `s3://${BUCKET}/${PREFIX}` };
}
