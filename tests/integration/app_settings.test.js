// `parlor app` on its own: short API secrets are refused outside --dev (and .env.example ships
// none that works), the session cookie is Secure over HTTPS (trusted proxy) or when forced,
// sign-in is throttled over all accounts, and the web root is a real directory boundary.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiSession } from '../lib/dev.js';
import { parlorBin, runParlor } from '../lib/media.js';

const goodEnv = {
  VIDEO_PROVIDER: 'livekit',
  LIVEKIT_URL: 'ws://127.0.0.1:9',  // never reached by these tests
  LIVEKIT_API_KEY: 'appkey',
  LIVEKIT_API_SECRET: 'a-test-secret-of-at-least-32-characters',
};

let dir;
let db;
const running = [];

async function startApp(args, env = goodEnv) {
  const proc = spawn(parlorBin, ['app', '--port', '0', '--data-dir', dir, '--database-url', db, ...args], {
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.push(proc);
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  const port = await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`parlor app did not start:\n${err}`)), 15000);
    proc.stdout.on('data', (d) => {
      out += d;
      const m = out.match(/listening app=[^:\s]+:(\d+)/);
      if (m) { clearTimeout(timer); resolve(Number(m[1])); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`parlor app exited ${code}:\n${err}`)); });
  });
  return {
    base: `http://127.0.0.1:${port}`,
    port,
    async stop() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      return proc.exitCode;
    },
  };
}

/** Parses KEY=value lines, skipping comments, as a shell `. ./.env` would. */
function readEnvFile(file) {
  const env = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const m = line.match(/^([A-Z_][A-Z0-9_]*)=(.*)$/);
    if (m) env[m[1]] = m[2];
  }
  return env;
}

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parlor-app-settings-'));
  db = path.join(dir, 'parlor.db');
  for (const [email, password] of [['staff@s.org', 'staff-password'], ['other@s.org', 'other-password']]) {
    const created = await runParlor(['admin', 'create-user', '--email', email, '--name', 'Staff',
      '--role', 'staff', '--password', password, '--database-url', db], { env: goodEnv });
    assert.equal(created.code, 0, created.stderr);
  }
});

after(async () => {
  for (const p of running) if (p.exitCode === null) p.kill('SIGTERM');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('a LiveKit API secret under 32 characters is refused outside --dev, naming the setting', async () => {
  for (const secret of ['secret', 'x'.repeat(31)]) {
    const r = await runParlor(['app', '--port', '0', '--database-url', db], { env: { ...goodEnv, LIVEKIT_API_SECRET: secret } });
    assert.equal(r.code, 2, r.stderr);
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 1, r.stderr);
    assert.match(lines[0], /^parlor app: LIVEKIT_API_SECRET must be at least 32 characters/);
  }
  // .env.example as shipped does not work either.
  const example = readEnvFile(new URL('../../.env.example', import.meta.url));
  assert.ok(example.LIVEKIT_API_SECRET, '.env.example sets LIVEKIT_API_SECRET');
  const r = await runParlor(['app', '--port', '0', '--database-url', db], { env: example });
  assert.equal(r.code, 2);
  assert.match(r.stderr, /LIVEKIT_API_SECRET/);
  // --dev keeps the development pair usable.
  const devApp = await startApp(['--dev'], { ...goodEnv, LIVEKIT_API_KEY: 'devkey', LIVEKIT_API_SECRET: 'secret' });
  assert.equal((await fetch(`${devApp.base}/healthz`)).status, 200);
  assert.equal(await devApp.stop(), 0);
});

test('the session cookie is Secure behind a trusted HTTPS proxy, and only then', async () => {
  const cookieFor = async (base, headers = {}) => {
    const res = await new ApiSession(base).request('POST', '/api/auth/login',
      { email: 'staff@s.org', password: 'staff-password' }, { headers });
    assert.equal(res.status, 200);
    const c = res.headers.get('set-cookie');
    assert.match(c, /HttpOnly/);
    assert.match(c, /SameSite=Strict/);
    return c;
  };
  let app = await startApp([]);
  assert.doesNotMatch(await cookieFor(app.base), /Secure/);
  // Without --trust-proxy anyone can send the header: it is ignored.
  assert.doesNotMatch(await cookieFor(app.base, { 'X-Forwarded-Proto': 'https' }), /Secure/);
  assert.equal(await app.stop(), 0);

  app = await startApp(['--trust-proxy']);
  assert.match(await cookieFor(app.base, { 'X-Forwarded-Proto': 'https' }), /; Secure/);
  assert.match(await cookieFor(app.base, { 'X-Forwarded-Proto': 'HTTPS, http' }), /; Secure/);
  assert.doesNotMatch(await cookieFor(app.base, { 'X-Forwarded-Proto': 'http' }), /Secure/);
  assert.doesNotMatch(await cookieFor(app.base), /Secure/);
  assert.equal(await app.stop(), 0);

  app = await startApp([], { ...goodEnv, PARLOR_SECURE_COOKIES: '1' });
  assert.match(await cookieFor(app.base), /; Secure/);
  const s = new ApiSession(app.base);
  await s.login('staff@s.org', 'staff-password');
  const out = await s.post('/api/auth/logout');
  assert.match(out.headers.get('set-cookie'), /Max-Age=0.*; Secure/);
  assert.equal(await app.stop(), 0);
});

test('sign-in attempts over all accounts are limited, with 429 and Retry-After', async () => {
  const app = await startApp(['--login-attempts-overall-per-minute', '4']);
  // A minute boundary can reset the window once: 4 + 4 + 1 attempts always reach the limit.
  let limited;
  for (let i = 0; i < 9 && !limited; i++) {
    const res = await new ApiSession(app.base).login(i % 2 ? 'other@s.org' : `unknown-${i}@s.org`, 'wrong-password');
    if (res.status === 429) limited = res;
    else assert.equal(res.status, 401);
  }
  assert.ok(limited, 'no 429');
  assert.equal(limited.body.error.code, 'too_many_requests');
  const wait = Number(limited.headers.get('retry-after'));
  assert.ok(wait >= 1 && wait <= 60, String(wait));
  assert.equal(await app.stop(), 0);
});

test('the web root is compared by whole path components', async () => {
  const web = path.join(dir, 'web');
  mkdirSync(web);
  mkdirSync(path.join(dir, 'web-evil'));
  writeFileSync(path.join(web, 'index.html'), '<p>the app</p>');
  writeFileSync(path.join(dir, 'web-evil', 'secret.txt'), 'do not serve');
  const app = await startApp(['--web-dir', web]);
  // A raw request target: fetch() would normalise the dot segments away.
  const raw = (target) => new Promise((resolve, reject) => {
    http.get({ host: '127.0.0.1', port: app.port, path: target }, (res) => {
      let body = '';
      res.on('data', (d) => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode, body }));
    }).on('error', reject);
  });
  for (const target of ['/../web-evil/secret.txt', '/%2e%2e/web-evil/secret.txt', '/x/../../web-evil/secret.txt']) {
    const res = await raw(target);
    assert.equal(res.status, 200, target);
    assert.equal(res.body, '<p>the app</p>', target);  // the SPA's index.html, not the file
  }
  assert.equal((await raw('/index.html')).body, '<p>the app</p>');
  assert.equal(await app.stop(), 0);
});
