// One binary carries its UI (issue 15): `parlor dev` started from an empty directory serves the
// web UI embedded at build time, with ETag/304, gzip and cache headers; `parlor version` says
// what is inside.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { startDev } from '../lib/dev.js';
import { runParlor } from '../lib/media.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const parlorVersion = readFileSync(path.join(repoRoot, 'src/common/version.hpp'), 'utf8')
  .match(/kParlor = "([^"]+)"/)[1];

let cwd;
let dev;

// Raw GET with exactly the given headers (fetch() would add Accept-Encoding and inflate).
function get(target, headers = {}) {
  const url = new URL(dev.appUrl);
  return new Promise((resolve, reject) => {
    http.get({ host: url.hostname, port: url.port, path: target, headers }, (res) => {
      const chunks = [];
      res.on('data', (d) => chunks.push(d));
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    }).on('error', reject);
  });
}

before(async () => {
  cwd = mkdtempSync(path.join(tmpdir(), 'parlor-onebin-'));  // empty: no web/dist here
  dev = await startDev({ cwd });
});

after(async () => {
  if (dev) assert.equal(await dev.stop(), 0, dev.logs());
  rmSync(cwd, { recursive: true, force: true });
});

test('parlor dev says where its UI comes from and what listens where', () => {
  const out = dev.output();
  assert.match(out, /web UI: embedded in the binary \(\d+ files\)/,
    `no embedded UI: run \`make web\` before building parlor\n${out}`);
  assert.match(out, /listening http=127\.0\.0\.1:\d+ \(LiveKit signalling/);
  assert.match(out, /listening udp=127\.0\.0\.1:\d+ \(WebRTC media/);
  assert.match(out, /listening app=127\.0\.0\.1:\d+ \(visitation API/);
});

test('GET / from an empty working directory is the built index.html', async () => {
  const res = await get('/');
  assert.equal(res.status, 200);
  assert.match(res.headers['content-type'], /^text\/html/);
  assert.equal(res.headers['cache-control'], 'no-cache');
  const html = res.body.toString();
  assert.match(html, /<script type="module" crossorigin src="\/assets\/[^"]+\.js"><\/script>/);
  const built = path.join(repoRoot, 'web/dist/index.html');
  if (existsSync(built)) {
    assert.equal(html, readFileSync(built, 'utf8'), 'the embedded UI is older than web/dist: rebuild parlor');
  }
  // A client-side route gets the same page.
  const route = await get('/visits/12');
  assert.equal(route.status, 200);
  assert.equal(route.body.toString(), html);
  // A hashed asset that is not in this build is a 404, not HTML.
  assert.equal((await get('/assets/not-in-this-build.js')).status, 404);
});

test('a hashed asset: ETag, If-None-Match 304, immutable, gzip that inflates to the same bytes', async () => {
  const html = (await get('/')).body.toString();
  const asset = html.match(/src="(\/assets\/[^"]+\.js)"/)[1];

  const plain = await get(asset);
  assert.equal(plain.status, 200);
  assert.equal(plain.headers['content-type'], 'text/javascript');
  assert.equal(plain.headers['content-encoding'], undefined);
  assert.match(plain.headers['cache-control'], /max-age=31536000.*immutable/);
  const etag = plain.headers.etag;
  assert.match(etag ?? '', /^"[^"]+"$/);
  assert.ok(plain.body.length > 1000);
  const onDisk = path.join(repoRoot, 'web/dist', asset);
  if (existsSync(onDisk)) assert.ok(plain.body.equals(readFileSync(onDisk)));

  const again = await get(asset, { 'If-None-Match': etag });
  assert.equal(again.status, 304);
  assert.equal(again.body.length, 0);
  assert.equal(again.headers.etag, etag);

  const zipped = await get(asset, { 'Accept-Encoding': 'gzip, deflate, br' });
  assert.equal(zipped.status, 200);
  assert.equal(zipped.headers['content-encoding'], 'gzip');
  assert.equal(zipped.headers.vary, 'Accept-Encoding');
  assert.ok(zipped.body.length < plain.body.length);
  assert.ok(gunzipSync(zipped.body).equals(plain.body));
  // The gzip representation has its own tag; it revalidates as well.
  const gzEtag = zipped.headers.etag;
  assert.match(gzEtag ?? '', /^"[^"]+"$/);
  assert.notEqual(gzEtag, etag);
  const gzAgain = await get(asset, { 'Accept-Encoding': 'gzip', 'If-None-Match': gzEtag });
  assert.equal(gzAgain.status, 304);
  assert.equal(gzAgain.headers.etag, gzEtag);
});

test('the API is still the API', async () => {
  const res = await get('/api/no-such-endpoint');
  assert.ok(res.status === 404 || res.status === 401, String(res.status));
  assert.match(res.headers['content-type'], /application\/json/);
});

test('parlor version and --version exit 0 with the version, protocol, build and UI', async () => {
  for (const arg of ['version', '--version']) {
    const r = await runParlor([arg], { cwd });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^parlor ${parlorVersion.replace(/\./g, '\\.')}\\n`));
    assert.match(r.stdout, /LiveKit protocol \d+/);
    assert.match(r.stdout, /build: \S+/);
    assert.match(r.stdout, /web UI: embedded, \d+ files/);
  }
});
