/** The IDE's files are served gzipped from memory; a folder of .gz files alone (the Lambda package) is enough. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { IdeAssets, ideAssetName, ideAssetResponse } from '../../src/ide/assets';

test('a folder with only .gz files serves every asset, gzipped or inflated', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'ide-'));
  writeFileSync(path.join(dir, 'app.js.gz'), gzipSync('console.log("ide")'));
  writeFileSync(path.join(dir, 'app.css.gz'), gzipSync('body{}'));
  const assets = IdeAssets.load(dir);
  expect(assets.size).toBe(2);
  const gz = ideAssetResponse(assets.get('app.js'), { acceptEncoding: 'gzip, deflate, br' });
  expect(gz.status).toBe(200);
  expect(gz.headers['content-encoding']).toBe('gzip');
  expect(gz.headers['content-type']).toBe('text/javascript; charset=utf-8');
  expect(gunzipSync(gz.body).toString()).toBe('console.log("ide")');
  const plain = ideAssetResponse(assets.get('app.css'), {});
  expect(plain.headers['content-encoding']).toBeUndefined();
  expect(plain.body.toString()).toBe('body{}');
  expect(ideAssetResponse(assets.get('app.js'), { ifNoneMatch: gz.headers.etag }).status).toBe(304);
  expect(ideAssetResponse(assets.get('nope.js'), {}).status).toBe(404);
});

test("an asset's ETag names its content (two builds of one size differ) and If-None-Match compares as RFC 9110 says", () => {
  const build = (text: string) => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'ide-'));
    writeFileSync(path.join(dir, 'app.js.gz'), gzipSync(text));
    return IdeAssets.load(dir).get('app.js');
  };
  const [one, other] = [build('console.log("aaa")'), build('console.log("bbb")')];
  expect(one!.gzipped.length).toBe(other!.gzipped.length);
  const tag = ideAssetResponse(one, { acceptEncoding: 'gzip' }).headers.etag!;
  expect(ideAssetResponse(other, { acceptEncoding: 'gzip' }).headers.etag).not.toBe(tag);
  // The new build's file is sent in full to a browser holding the old one's tag.
  expect(ideAssetResponse(other, { acceptEncoding: 'gzip', ifNoneMatch: tag }).status).toBe(200);
  // One file in two content codings shares a weak tag; a list and `*` match.
  expect(ideAssetResponse(one, {}).headers.etag).toBe(tag);
  expect(tag.startsWith('W/')).toBe(true);
  for (const ifNoneMatch of [`"x", ${tag}`, '*'])
    expect(ideAssetResponse(one, { acceptEncoding: 'gzip', ifNoneMatch }).status).toBe(304);
});

test('asset names come only from a path ending in /ide/<file>', () => {
  expect(ideAssetName('/ide/app.js')).toBe('app.js');
  expect(ideAssetName('/prod/ide/graphql.worker.js')).toBe('graphql.worker.js');
  expect(ideAssetName('/ide/../secret')).toBeNull();
  expect(ideAssetName('/graphql')).toBeNull();
});

test('the demo page is served as HTML beside the IDE, gzipped, by the Lambda handler (stage prefix included)', async () => {
  const { createApi } = await import('../../src/server/api');
  const { apiConfig } = await import('../../src/server/config');
  const { createApiLambdaHandler } = await import('../../src/server/lambda');
  const { invoke } = await import('./helpers/lambda-events');
  const { UnavailableProvider } = await import('./helpers/engines');
  // The built bundle (npm test builds it first, pretest).
  const api = createApi({ config: apiConfig(), provider: new UnavailableProvider() });
  const handler = createApiLambdaHandler(api) as unknown as Parameters<typeof invoke>[0];
  const page = await invoke(handler, {
    method: 'GET',
    path: '/dev/ide/demo.html',
    headers: { 'accept-encoding': 'gzip' },
  });
  expect(page.statusCode).toBe(200);
  expect(page.headers?.['content-type']).toBe('text/html; charset=utf-8');
  expect(page.isBase64Encoded).toBe(true);
  const html = gunzipSync(Buffer.from(page.body ?? '', 'base64')).toString();
  expect(html).toContain('<script type="module" src="demo.js"></script>');
});
