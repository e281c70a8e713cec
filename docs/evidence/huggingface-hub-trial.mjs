// Re-run: mkdir /tmp/t && cd /tmp/t && npm i @huggingface/hub@2.17.5 && cp <repo>/docs/evidence/huggingface-hub-trial.mjs . && node huggingface-hub-trial.mjs
// (docs/model-loading.md, "@huggingface/hub for model pull", gives the output and the decision)
// Scratch trial of @huggingface/hub 2.17.5 downloadFileToCacheDir against a fake Hub (no internet):
// 1) layout; 2) is a corrupted body accepted (sha256 check)?; 3) after a dropped connection, is the
// next call resumed with a Range request?
import http from 'node:http';
import { createHash } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, lstatSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { downloadFileToCacheDir } from '@huggingface/hub';

const good = Buffer.alloc(4 << 20, 7);
const oid = createHash('sha256').update(good).digest('hex');
const commit = 'a'.repeat(40);
let mode = 'corrupt';
const log = [];
const server = http.createServer((req, res) => {
  log.push(`${req.method} ${req.url} range=${req.headers.range ?? '-'}`);
  if (req.url.includes('/paths-info/')) {
    res.setHeader('content-type', 'application/json');
    return res.end(JSON.stringify([{ path: 'onnx/model.onnx', type: 'file', oid: 'b'.repeat(40), size: good.length, lfs: { oid, size: good.length, pointerSize: 130 }, lastCommit: { id: commit, title: 't', date: '2026-01-01' } }]));
  }
  if (req.url.includes('/resolve/')) {
    if (req.method === 'HEAD') {
      res.writeHead(200, { 'content-length': good.length, 'x-linked-etag': `"${oid}"`, 'x-repo-commit': commit, 'accept-ranges': 'bytes', etag: `"${oid}"` });
      return res.end();
    }
    if (req.headers.range === 'bytes=0-0') { res.writeHead(206, { 'content-range': `bytes 0-0/${good.length}`, 'content-length': 1, 'accept-ranges': 'bytes', etag: `"${oid}"`, 'x-linked-etag': `"${oid}"` }); return res.end(good.subarray(0, 1)); }
    if (mode === 'corrupt') { res.writeHead(200, { 'content-length': good.length }); return res.end(Buffer.alloc(good.length, 9)); }
    if (mode === 'drop') { res.writeHead(200, { 'content-length': good.length }); res.write(good.subarray(0, 1 << 20)); return setTimeout(() => res.destroy(), 50); }
  }
  res.writeHead(404); res.end();
});
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const hubUrl = `http://127.0.0.1:${server.address().port}`;
const show = (dir) => { const out = []; const walk = (d) => { for (const e of readdirSync(d)) { const p = path.join(d, e); const s = lstatSync(p); if (s.isDirectory()) walk(p); else out.push(path.relative(dir, p) + (s.isSymbolicLink() ? ' -> ' + readlinkSync(p) : ` (${s.size} B)`)); } }; walk(dir); return out; };

const cacheA = mkdtempSync(path.join(tmpdir(), 'hfA-'));
const p = await downloadFileToCacheDir({ repo: 'org/model', path: 'onnx/model.onnx', hubUrl, cacheDir: cacheA });
const got = createHash('sha256').update(readFileSync(p)).digest('hex');
console.log('1) layout:', show(cacheA));
console.log('2) corrupted body accepted:', got !== oid, '(file sha256', got.slice(0, 12), 'vs lfs oid', oid.slice(0, 12) + ')');

mode = 'drop';
const cacheB = mkdtempSync(path.join(tmpdir(), 'hfB-'));
for (const attempt of [1, 2]) {
  try { await downloadFileToCacheDir({ repo: 'org/model', path: 'onnx/model.onnx', hubUrl, cacheDir: cacheB }); console.log('attempt', attempt, 'ok?!'); }
  catch (e) { console.log(`3) attempt ${attempt} failed: ${e.message}; left:`, show(cacheB)); }
}
console.log('requests:', log.filter((l) => !l.includes('paths-info')).join(' | '));
server.close();
