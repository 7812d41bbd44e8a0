// `parlor app` with VIDEO_PROVIDER=twilio: the legacy provider mints Twilio Video access tokens
// for /api/calls/join and answers 501 for everything that needs room control.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ApiSession } from '../lib/dev.js';
import { parlorBin, runParlor } from '../lib/media.js';

const twilioEnv = {
  VIDEO_PROVIDER: 'twilio',
  TWILIO_ACCOUNT_SID: 'AC0123456789abcdef0123456789abcdef',
  TWILIO_API_KEY: 'SKfedcba9876543210fedcba9876543210',
  TWILIO_API_SECRET: 'twilio-integration-secret',
};

let dir;
let proc;
let base;
let staff;
let visitor;
let visitId;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parlor-twilio-'));
  const created = await runParlor(['admin', 'create-user', '--email', 'staff@t.org', '--name', 'Staff',
    '--role', 'staff', '--password', 'staff-password', '--database-url', path.join(dir, 'parlor.db')], { env: twilioEnv });
  assert.equal(created.code, 0, created.stderr);
  proc = spawn(parlorBin, ['app', '--port', '0', '--data-dir', dir, '--database-url', path.join(dir, 'parlor.db'), '--web-dir', dir], {
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0', ...twilioEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
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
  base = `http://127.0.0.1:${port}`;
  staff = new ApiSession(base);
  assert.equal((await staff.login('staff@t.org', 'staff-password')).status, 200);
  const resident = (await staff.post('/api/residents', { name: 'Rita', unit: '1' })).body.resident;
  const person = (await staff.post('/api/visitors', { name: 'Val', email: 'val@t.org', password: 'val-password' })).body.visitor;
  const ask = await staff.post('/api/approvals', { residentId: resident.id, visitorId: person.id });
  await staff.post(`/api/approvals/${ask.body.approval.id}/decision`, { status: 'approved' });
  const visit = await staff.post('/api/visits', {
    residentId: resident.id, visitorIds: [person.id], start: new Date(Date.now() - 60e3).toISOString(), durationMinutes: 30,
  });
  assert.equal(visit.status, 201, JSON.stringify(visit.body));
  visitId = visit.body.visit.id;
  visitor = new ApiSession(base);
  assert.equal((await visitor.login('val@t.org', 'val-password')).status, 200);
});

after(async () => {
  if (proc && proc.exitCode === null) {
    const exited = new Promise((r) => proc.once('exit', r));
    proc.kill('SIGTERM');
    await exited;
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function decode(part) {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
}

test('twilio: /api/config names the provider', async () => {
  const res = await staff.get('/api/config');
  assert.equal(res.body.videoProvider, 'twilio');
});

test('twilio: join returns a Twilio Video access token signed with the API secret', async () => {
  const before = Math.floor(Date.now() / 1000);
  const res = await visitor.post('/api/calls/join', { visitId });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  assert.equal(res.body.provider, 'twilio');
  assert.equal(res.body.room, `visit-${visitId}`);
  assert.equal(res.body.identity, 'visitor-1');
  const [h, c, sig] = res.body.token.split('.');
  assert.deepEqual(decode(h), { typ: 'JWT', alg: 'HS256', cty: 'twilio-fpa;v=1' });
  const claims = decode(c);
  assert.equal(claims.iss, twilioEnv.TWILIO_API_KEY);
  assert.equal(claims.sub, twilioEnv.TWILIO_ACCOUNT_SID);
  assert.match(claims.jti, new RegExp(`^${twilioEnv.TWILIO_API_KEY}-\\d+$`));
  assert.ok(claims.exp > before && claims.exp <= before + 3600);
  assert.deepEqual(claims.grants, { identity: 'visitor-1', video: { room: `visit-${visitId}` } });
  const expected = createHmac('sha256', twilioEnv.TWILIO_API_SECRET).update(`${h}.${c}`).digest('base64url');
  assert.equal(sig, expected);
  assert.equal(new Date(res.body.expiresAt).getTime() / 1000, claims.exp);
});

test('twilio: moderation and monitoring answer 501 with a clear error, and change nothing', async () => {
  for (const [p, body] of [['mute', { identity: 'visitor-1', trackSid: 'TR_x', muted: true }],
    ['remove', { identity: 'visitor-1' }], ['end', { reason: 'test' }]]) {
    const res = await staff.post(`/api/visits/${visitId}/moderation/${p}`, body);
    assert.equal(res.status, 501, p);
    assert.equal(res.body.error.code, 'not_implemented');
    assert.match(res.body.error.message, /VIDEO_PROVIDER=twilio/);
  }
  assert.equal((await staff.get(`/api/visits/${visitId}`)).body.visit.status, 'scheduled');
  const monitor = await staff.post('/api/calls/join', { visitId, monitor: true });
  assert.equal(monitor.status, 501);
  assert.equal(monitor.body.error.code, 'not_implemented');
  const live = await staff.get('/api/live');
  assert.equal(live.status, 200);
});

test('twilio: missing or malformed credentials stop the app at start with the variable named', async () => {
  const res = await runParlor(['app', '--port', '0', '--data-dir', dir, '--database-url', path.join(dir, 'parlor.db')], {
    env: { ...twilioEnv, TWILIO_API_KEY: 'AC-not-a-key' },
  });
  assert.notEqual(res.code, 0);
  assert.match(res.stderr, /TWILIO_API_KEY/);
});
