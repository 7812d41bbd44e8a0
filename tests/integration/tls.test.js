// TLS served by Parlor itself (issue 15): `parlor dev --tls-cert --tls-key` serves the UI and the
// API over HTTPS and the media server over HTTPS/WSS from one certificate (made here by a test
// CA), with HSTS and the Secure session cookie; each half trusts the certificate when it calls
// the other (Twirp, webhooks). Certificate files replaced on disk are served to new connections;
// plain HTTP, garbage and stalled handshakes on the TLS port are cut off without affecting
// anyone else.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import { SignalResponse } from '@livekit/protocol';
import { startDev } from '../lib/dev.js';
import { waitFor } from '../lib/media.js';
import {
  makeTestCa, replaceCertificate, servedFingerprint, httpsRequest, rawConnect,
} from '../lib/tls.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
let ca;
let first;
let second;
let live;  // the paths the server reads: first's files, replaced by second's in the reload test
let dev;

before(async () => {
  ca = makeTestCa();
  first = ca.issue('first');
  second = ca.issue('second');
  live = ca.issue('live');
  replaceCertificate(first, live);
  dev = await startDev({
    args: ['--tls-cert', live.cert, '--tls-key', live.key, '--jobs-interval-ms', '200',
      '--config-body', 'tls:\n  reload_interval_ms: 200\n  handshake_timeout_seconds: 2\n'],
  });
});

after(async () => {
  if (dev) assert.equal(await dev.stop(), 0, dev.logs());
  ca?.remove();
});

const get = (url, options = {}) => httpsRequest(url, { ca: ca.caPem, ...options });

async function metric(name) {
  const text = (await get(`${dev.mediaHttpUrl}/metrics`)).body;
  const m = text.match(new RegExp(`^${name} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : undefined;
}

async function login(email, password) {
  const res = await get(`${dev.appUrl}/api/auth/login`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ email, password }),
  });
  assert.equal(res.status, 200, res.body);
  const setCookie = res.headers['set-cookie'][0];
  return { setCookie, cookie: setCookie.split(';')[0], csrf: JSON.parse(res.body).csrfToken };
}

test('startup lines say https and wss', () => {
  const out = dev.output();
  assert.match(out, /listening https=127\.0\.0\.1:\d+ \(LiveKit signalling wss:\/\//);
  assert.match(out, /listening app=127\.0\.0\.1:\d+ over HTTPS/);
  assert.match(out, new RegExp(`Web UI \\+ API: https://127\\.0\\.0\\.1:${dev.appPort}`));
  assert.match(out, new RegExp(`LiveKit URL: +wss://127\\.0\\.0\\.1:${dev.mediaPort}`));
  assert.ok(out.includes(`sha256 ${first.fingerprint}`), out);
  assert.doesNotMatch(out, /others can read it/, 'the test key is 0600');
});

test('the UI and the API over HTTPS carry HSTS; the media server too', async () => {
  const ui = await get(`${dev.appUrl}/`);
  assert.equal(ui.status, 200);
  assert.match(ui.headers['content-type'], /^text\/html/);
  assert.equal(ui.headers['strict-transport-security'], 'max-age=31536000');
  const api = await get(`${dev.appUrl}/api/visits`);
  assert.equal(api.status, 401);
  assert.equal(api.headers['strict-transport-security'], 'max-age=31536000');
  const health = await get(`${dev.mediaHttpUrl}/healthz`);
  assert.equal(health.status, 200);
  assert.equal(health.headers['strict-transport-security'], 'max-age=31536000');
  // Verification is real: without the test CA the certificate is refused.
  await assert.rejects(httpsRequest(`${dev.appUrl}/`), /self[- ]signed|unable to (get|verify)/i);
});

test('signing in over HTTPS sets a Secure session cookie', async () => {
  const { setCookie } = await login('staff@parlor.local', 'parlor-staff');
  assert.match(setCookie, /; Secure/);
  assert.match(setCookie, /HttpOnly/);
});

test('a plain-HTTP client on the TLS port gets no answer, and the server goes on', async () => {
  const before = await metric('parlor_tls_handshake_failures_total');
  for (const port of [dev.appPort, dev.mediaPort]) {
    const socket = await rawConnect(port);
    const closed = new Promise((r) => socket.once('close', r));
    let received = '';
    socket.on('data', (d) => { received += d.toString('latin1'); });
    socket.on('error', () => {});
    socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n');
    await closed;
    assert.doesNotMatch(received, /HTTP\/1\.1 200/);
  }
  await waitFor(async () => (await metric('parlor_tls_handshake_failures_total')) > before,
    { what: 'the failed handshake counted' });
  assert.equal((await get(`${dev.appUrl}/api/visits`)).status, 401);
  assert.equal((await get(`${dev.mediaHttpUrl}/healthz`)).status, 200);
});

test('garbage and a stalled handshake do not hold up others, and are cut off', async () => {
  // A TLS record header promising a long ClientHello, then nothing more.
  const stalled = await rawConnect(dev.mediaPort);
  stalled.on('error', () => {});
  const stalledClosed = new Promise((r) => stalled.once('close', r));
  stalled.write(Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]));
  let stalledOpen = true;
  stalledClosed.then(() => { stalledOpen = false; });
  const garbage = await rawConnect(dev.appPort);
  garbage.on('error', () => {});
  const garbageClosed = new Promise((r) => garbage.once('close', r));
  garbage.write(Buffer.alloc(4096, 0xab));
  // Meanwhile others are served, while the stalled handshake is still pending.
  assert.equal((await get(`${dev.mediaHttpUrl}/healthz`)).status, 200);
  assert.ok(stalledOpen, 'served only after the stalled handshake was cut off');
  assert.equal((await get(`${dev.appUrl}/api/visits`)).status, 401);
  await garbageClosed;
  // tls.handshake_timeout_seconds is 2: the stalled client is disconnected by the server.
  const cut = await Promise.race([stalledClosed.then(() => true),
    new Promise((r) => setTimeout(() => r(false), 8000))]);
  assert.ok(cut, 'a stalled handshake was not cut off');
});

test('the app reaches the media server over HTTPS and WSS joins fire webhooks back over HTTPS', async () => {
  const visitor = await login('visitor@parlor.local', 'parlor-visitor');
  const join = await get(`${dev.appUrl}/api/calls/join`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Cookie: visitor.cookie, 'X-CSRF-Token': visitor.csrf },
    body: JSON.stringify({ visitId: 1 }),
  });
  assert.equal(join.status, 200, join.body);
  const grant = JSON.parse(join.body);
  assert.equal(grant.url, dev.mediaUrl);
  assert.match(grant.url, /^wss:\/\//);
  // LiveKit's v0 signalling path over WSS: the JoinResponse arrives (the connection moved to
  // the media worker with its TLS session).
  const ws = new WebSocket(`${grant.url}/rtc?access_token=${grant.token}&protocol=9&auto_subscribe=1`,
    { ca: ca.caPem });
  const joined = await new Promise((resolve, reject) => {
    ws.on('message', (data) => {
      const msg = SignalResponse.fromBinary(new Uint8Array(data));
      if (msg.message.case === 'join') resolve(msg.message.value);
    });
    ws.on('error', reject);
  });
  assert.equal(joined.room.name, 'visit-1');
  assert.equal(joined.participant.identity, 'visitor-1');
  // participant_joined, delivered by the media server to https://…/webhooks/livekit.
  const staff = await login('staff@parlor.local', 'parlor-staff');
  await waitFor(async () => {
    const res = await get(`${dev.appUrl}/api/visits/1`, { headers: { Cookie: staff.cookie } });
    return JSON.parse(res.body).visit.status === 'live';
  }, { timeoutMs: 10000, what: 'visit-1 live after the webhook' });
  ws.close();
});

// livekit-server-sdk uses fetch(); a child Node process trusts the test CA through
// NODE_EXTRA_CA_CERTS, as an operator's script would.
function sdkCall(extraCa) {
  const script = `
    import { RoomServiceClient } from 'livekit-server-sdk';
    const rooms = new RoomServiceClient(process.env.URL, 'devkey', 'secret');
    const room = await rooms.createRoom({ name: 'sdk-over-https' });
    const names = (await rooms.listRooms()).map((r) => r.name);
    console.log(JSON.stringify({ created: room.name, names }));`;
  return new Promise((resolve) => {
    const env = { ...process.env, URL: dev.mediaHttpUrl };
    delete env.NODE_EXTRA_CA_CERTS;
    if (extraCa) env.NODE_EXTRA_CA_CERTS = extraCa;
    const proc = spawn(process.execPath, ['--input-type=module', '-e', script],
      { env, cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (d) => { out += d; });
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('exit', (code) => resolve({ code, out, err }));
  });
}

test('livekit-server-sdk RoomServiceClient over HTTPS with the test CA', async () => {
  const ok = await sdkCall(ca.caFile);
  assert.equal(ok.code, 0, ok.err);
  const result = JSON.parse(ok.out);
  assert.equal(result.created, 'sdk-over-https');
  assert.ok(result.names.includes('sdk-over-https'));
  const untrusted = await sdkCall(undefined);
  assert.notEqual(untrusted.code, 0, 'the SDK trusted a certificate from an unknown CA');
});

test('replaced certificate files are served to new connections; a bad file keeps the old one', async () => {
  assert.equal(await servedFingerprint(dev.mediaPort, ca.caPem), first.fingerprint);
  assert.equal(await servedFingerprint(dev.appPort, ca.caPem), first.fingerprint);
  const reloadsBefore = await metric('parlor_tls_reloads_total');
  replaceCertificate(second, live);
  for (const port of [dev.mediaPort, dev.appPort]) {
    await waitFor(async () => (await servedFingerprint(port, ca.caPem)) === second.fingerprint,
      { timeoutMs: 10000, intervalMs: 100, what: `port ${port} serving the new certificate` });
  }
  assert.equal(await metric('parlor_tls_reloads_total'), reloadsBefore + 1);
  // A broken certificate file: refused, counted, and the last good one stays.
  const failuresBefore = await metric('parlor_tls_reload_failures_total');
  const garbage = path.join(ca.dir, 'garbage.pem');
  writeFileSync(garbage, '-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n');
  replaceCertificate({ cert: garbage, key: live.key }, live);
  await waitFor(async () => (await metric('parlor_tls_reload_failures_total')) > failuresBefore,
    { timeoutMs: 10000, intervalMs: 100, what: 'the bad file refused' });
  assert.equal(await servedFingerprint(dev.mediaPort, ca.caPem), second.fingerprint);
  assert.equal((await get(`${dev.mediaHttpUrl}/healthz`)).status, 200);
  assert.match(dev.logs(), /still serving the previous certificate/);
  // Back to the first one: the next check loads it.
  replaceCertificate(first, live);
  await waitFor(async () => (await servedFingerprint(dev.mediaPort, ca.caPem)) === first.fingerprint,
    { timeoutMs: 10000, intervalMs: 100, what: 'the first certificate back' });
});
