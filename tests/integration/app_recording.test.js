// Recording in the app (docs/recording.md, "In the app") against the real `parlor dev` (media
// server + app, talking only through the LiveKit protocol): the facility's recording policy and
// the Visit's `recorded` flag; a recorded visit going live makes the app start a room-composite
// egress (livekit-server-sdk's EgressClient lists it); privileged visits get no egress, a room
// whose metadata forbids recording and an end-to-end encryption key only their participants
// receive; a stored recording is hashed into the manifest and `parlor admin verify-recordings`
// fails once one byte changes; retention deletes on time, audited. On SQLite and PostgreSQL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { mkdtempSync, mkdirSync, writeFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AccessToken, EgressClient, RoomServiceClient } from 'livekit-server-sdk';
import { Room, dispose } from '@livekit/rtc-node';
import { startDev, ApiSession } from '../lib/dev.js';
import { devKey, devSecret, waitFor, runParlor } from '../lib/media.js';

function postgresUrl() {
  const base = process.env.PARLOR_TEST_PG_URL;
  const name = `parlor_rec_${process.pid}_${Date.now()}_${randomBytes(3).toString('hex')}`;
  execFileSync('psql', [base, '-q', '-c', `CREATE DATABASE ${name}`]);
  return base.replace(/\/[^/]*$/, `/${name}`);
}

const databases = [['SQLite', () => null]];
if (process.env.PARLOR_TEST_PG_URL) databases.push(['PostgreSQL', postgresUrl]);

async function signedWebhook(appUrl, event) {
  const body = JSON.stringify(event);
  const at = new AccessToken(devKey, devSecret, { ttl: '5m' });
  at.sha256 = createHash('sha256').update(body).digest('base64');
  const res = await fetch(`${appUrl}/webhooks/livekit`, {
    method: 'POST',
    headers: { Authorization: await at.toJwt(), 'Content-Type': 'application/webhook+json' },
    body,
  });
  assert.equal(res.status, 200, await res.text());
}

const base64urlBytes = (s) => Buffer.from(s, 'base64url').length;

for (const [dbName, makeUrl] of databases) {
  describe(`recording in the app on ${dbName}`, () => {
    let dev;
    let dir;         // holds the recordings (and the SQLite database)
    let recordings;  // --recordings-dir
    let databaseUrl;
    let staff;
    let resident;
    let visitor;
    let visitor2;    // approved for the resident, but not on every visit
    let visitor2Id;
    let rooms;
    let egress;
    const connected = [];

    const book = async ({ privileged = false, visitorIds = [1], startMs = Date.now() - 60e3 } = {}) => {
      const res = await staff.post('/api/visits', {
        residentId: 1, visitorIds, start: new Date(startMs).toISOString(), durationMinutes: 30, privileged,
      });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      return res.body.visit;
    };
    const audit = async (filter) => (await staff.get('/api/audit?limit=1000')).body.entries.filter(filter);
    const visitOf = async (id) => (await staff.get(`/api/visits/${id}`)).body.visit;
    /** Joins the call as `session` and connects a real participant, so the visit goes live. */
    const goLive = async (session, visit) => {
      const join = await session.post('/api/calls/join', { visitId: visit.id });
      assert.equal(join.status, 200, JSON.stringify(join.body));
      const room = new Room();
      await room.connect(join.body.url, join.body.token, { autoSubscribe: false, dynacast: false });
      connected.push(room);
      await waitFor(async () => (await visitOf(visit.id)).status === 'live', { timeoutMs: 5000, what: 'visit live' });
      return join.body;
    };
    const verify = () => runParlor(['admin', 'verify-recordings', '--recordings-dir', recordings,
      '--database-url', databaseUrl]);

    before(async () => {
      databaseUrl = makeUrl();
      dir = mkdtempSync(path.join(tmpdir(), 'parlor-app-rec-'));
      recordings = path.join(dir, 'recordings');
      mkdirSync(recordings);
      // SQLite: a file of our own, so `parlor admin` can open it next to the running app.
      databaseUrl ??= path.join(dir, 'parlor.db');
      dev = await startDev({ args: ['--recordings-dir', recordings, '--jobs-interval-ms', '200',
        '--database-url', databaseUrl] });
      staff = new ApiSession(dev.appUrl);
      resident = new ApiSession(dev.appUrl);
      visitor = new ApiSession(dev.appUrl);
      visitor2 = new ApiSession(dev.appUrl);
      assert.equal((await staff.login('staff@parlor.local', 'parlor-staff')).status, 200);
      assert.equal((await resident.login('resident@parlor.local', 'parlor-resident')).status, 200);
      assert.equal((await visitor.login('visitor@parlor.local', 'parlor-visitor')).status, 200);
      const made = await staff.post('/api/visitors', { name: 'Paula Partner', email: 'paula@x.org', password: 'paula-visits' });
      assert.equal(made.status, 201, JSON.stringify(made.body));
      visitor2Id = made.body.visitor.id;
      const ask = await staff.post('/api/approvals', { residentId: 1, visitorId: visitor2Id });
      await staff.post(`/api/approvals/${ask.body.approval.id}/decision`, { status: 'approved' });
      assert.equal((await visitor2.login('paula@x.org', 'paula-visits')).status, 200);
      rooms = new RoomServiceClient(dev.mediaHttpUrl, devKey, devSecret);
      egress = new EgressClient(dev.mediaHttpUrl, devKey, devSecret);
    });

    after(async () => {
      for (const r of connected) await r.disconnect().catch(() => {});
      assert.equal(await dev?.stop(), 0);
      rmSync(dir, { recursive: true, force: true });
    });

    test('the policy: recordVisits and recordingRetentionDays in the rules decide `recorded`', async () => {
      let rules = (await staff.get('/api/rules')).body.rules;
      assert.equal(rules.recordVisits, true);
      assert.equal(rules.recordingRetentionDays, 90);
      const ordinary = await book();
      const privileged = await book({ privileged: true });
      assert.equal(ordinary.recorded, true);
      assert.equal(privileged.recorded, false);

      for (const bad of [{ recordingRetentionDays: -1 }, { recordingRetentionDays: 3651 }, { recordVisits: 'yes' }]) {
        const res = await staff.request('PUT', '/api/rules', { ...rules, ...bad });
        assert.equal(res.status, 400, JSON.stringify(bad));
        assert.equal(res.body.error.code, 'bad_request');
      }
      const { recordVisits, recordingRetentionDays, ...bookingOnly } = rules;
      assert.equal((await staff.request('PUT', '/api/rules', bookingOnly)).status, 200, 'policy fields are optional');
      let res = await staff.request('PUT', '/api/rules', { ...rules, recordVisits: false, recordingRetentionDays: 0 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.rules.recordVisits, false);
      assert.equal(res.body.rules.recordingRetentionDays, 0);
      assert.equal((await visitOf(ordinary.id)).recorded, false);
      res = await visitor.request('PUT', '/api/rules', rules);
      assert.equal(res.status, 403);
      res = await staff.request('PUT', '/api/rules', rules);
      rules = res.body.rules;
      assert.equal(rules.recordVisits, true);
      assert.equal((await visitOf(ordinary.id)).recorded, true);
      await staff.post(`/api/visits/${ordinary.id}/cancel`, { reason: 'test over' });
      await staff.post(`/api/visits/${privileged.id}/cancel`, { reason: 'test over' });
    });

    test('a privileged visit: the same E2EE key for its participants only, a room that forbids recording, no egress', async () => {
      const visit = await book({ privileged: true });
      const name = `visit-${visit.id}`;
      const r = await resident.post('/api/calls/join', { visitId: visit.id });
      const v = await visitor.post('/api/calls/join', { visitId: visit.id });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(v.status, 200, JSON.stringify(v.body));
      assert.ok(r.body.e2ee?.key, 'the join answer carries the key');
      assert.equal(base64urlBytes(r.body.e2ee.key), 32);
      assert.equal(v.body.e2ee.key, r.body.e2ee.key, 'one key for everyone on the visit');
      assert.equal(r.headers.get('cache-control'), 'no-store');
      // Someone not on this visit gets neither a token nor the key.
      const stranger = await visitor2.post('/api/calls/join', { visitId: visit.id });
      assert.equal(stranger.status, 404);
      assert.equal(stranger.body.e2ee, undefined);
      // Staff cannot monitor it (and so never see the key).
      const monitor = await staff.post('/api/calls/join', { visitId: visit.id, monitor: true });
      assert.equal(monitor.status, 403);
      assert.equal(monitor.body.e2ee, undefined);
      // Another privileged visit has another key; an ordinary one has none.
      const other = await book({ privileged: true, visitorIds: [visitor2Id] });
      const o = await visitor2.post('/api/calls/join', { visitId: other.id });
      assert.equal(o.status, 200, JSON.stringify(o.body));
      assert.notEqual(o.body.e2ee.key, r.body.e2ee.key);
      const ordinary = await book();
      const plain = await visitor.post('/api/calls/join', { visitId: ordinary.id });
      assert.equal(plain.body.e2ee, undefined);
      await staff.post(`/api/visits/${ordinary.id}/cancel`, { reason: 'test over' });
      await staff.post(`/api/visits/${other.id}/cancel`, { reason: 'test over' });

      const [room] = await rooms.listRooms([name]);
      assert.ok(room, 'the room is open');
      assert.equal(JSON.parse(room.metadata).recording, 'forbidden');

      await goLive(resident, visit);
      // A jobs run after it went live (the one that marks this visit missed once its end has
      // passed) had its chance to start an egress; neither it nor the join's webhook did.
      const marker = await book({ startMs: Date.now() - 30 * 60e3 + 1000 });
      await waitFor(async () => (await visitOf(marker.id)).status === 'missed', { timeoutMs: 10000, what: 'a jobs run' });
      const started = await audit((e) => e.target === `visit:${visit.id}` && e.action.startsWith('recording.'));
      assert.deepEqual(started, [], 'no recording action for a privileged visit');
      assert.equal((await staff.get(`/api/recordings?visitId=${visit.id}`)).body.recordings.length, 0);

      // An egress someone else started on the room is neither linked nor kept.
      await signedWebhook(dev.appUrl, { event: 'egress_started', id: `EV_priv_${visit.id}`, createdAt: '1',
        room: { name }, egressInfo: { egressId: `EG_priv_${visit.id}`, roomName: name, status: 'EGRESS_STARTING' } });
      const refused = await audit((e) => e.target === `visit:${visit.id}` && e.action === 'recording.refused');
      assert.equal(refused.length, 1);
      assert.equal(refused[0].details.egressId, `EG_priv_${visit.id}`);
      assert.equal((await staff.get(`/api/recordings?visitId=${visit.id}`)).body.recordings.length, 0);
      await staff.post(`/api/visits/${visit.id}/moderation/end`, {});
    });

    test('a recorded visit going live starts one room-composite egress, stopped when the visit ends', async () => {
      const visit = await book();
      const name = `visit-${visit.id}`;
      await goLive(visitor, visit);
      const started = await waitFor(async () => (await audit((e) => e.target === `visit:${visit.id}` &&
        (e.action === 'recording.started' || e.action === 'recording.start_failed')))[0], { timeoutMs: 10000, what: 'a recording start' });
      assert.equal(started.action, 'recording.started', JSON.stringify(started.details));
      const list = await egress.listEgress({ roomName: name });
      assert.equal(list.length, 1, 'exactly one egress for the visit');
      assert.equal(list[0].egressId, started.details.egressId);
      const recs = (await staff.get(`/api/recordings?visitId=${visit.id}`)).body.recordings;
      assert.equal(recs.length, 1);
      assert.equal(recs[0].egressId, started.details.egressId);

      await staff.post(`/api/visits/${visit.id}/moderation/end`, {});
      await waitFor(async () => {
        const [info] = await egress.listEgress({ egressId: started.details.egressId });
        return info && info.status >= 2;  // ENDING, COMPLETE, FAILED, ...
      }, { timeoutMs: 15000, what: 'the egress stopped' });
      assert.equal((await audit((e) => e.target === `visit:${visit.id}` && e.action === 'recording.started')).length, 1);
    });

    test('a stored recording is hashed into the manifest; verify-recordings fails once one byte changes', async () => {
      const visit = await book();
      const file = path.join(recordings, `visit-${visit.id}`, 'recorded.mp4');
      mkdirSync(path.dirname(file), { recursive: true });
      const content = randomBytes(300000);
      writeFileSync(file, content);
      const egressId = `EG_file_${visit.id}`;
      await signedWebhook(dev.appUrl, { event: 'egress_ended', id: `EV_${egressId}`, createdAt: '1',
        room: { name: `visit-${visit.id}` },
        egressInfo: { egressId, roomName: `visit-${visit.id}`, status: 'EGRESS_COMPLETE',
          fileResults: [{ filename: `visit-${visit.id}/recorded.mp4`, location: file, size: '1', duration: '5000000000' }] } });
      const rec = await waitFor(async () => (await staff.get(`/api/recordings?visitId=${visit.id}`)).body.recordings
        .find((r) => r.egressId === egressId && r.sha256), { timeoutMs: 10000, what: 'the recording hashed' });
      assert.equal(rec.sha256, createHash('sha256').update(content).digest('hex'));
      assert.equal(rec.sizeBytes, content.length, 'the size measured, not the one reported');
      assert.ok((await audit((e) => e.action === 'recording.stored' && e.target === `recording:${rec.id}`)).length);

      let out = await verify();
      assert.equal(out.code, 0, out.stdout + out.stderr);
      assert.match(out.stdout, /^ok: /m);

      // The inline view for the page's player, staff only.
      const inline = await staff.get(`/api/recordings/${rec.id}/download?inline=1`);
      assert.equal(inline.status, 200);
      assert.match(inline.headers.get('content-disposition'), /^inline;/);
      assert.match((await staff.get(`/api/recordings/${rec.id}/download`)).headers.get('content-disposition'), /^attachment;/);
      assert.equal((await visitor.get(`/api/recordings/${rec.id}/download?inline=1`)).status, 403);
      assert.equal((await resident.get('/api/recordings')).status, 403);

      const changed = Buffer.from(content);
      changed[12345] ^= 0x01;
      writeFileSync(file, changed);
      out = await verify();
      assert.equal(out.code, 1, out.stdout + out.stderr);
      assert.match(out.stdout, new RegExp(`FAIL recording ${rec.id} .*recorded\\.mp4.*file changed`));
      writeFileSync(file, content);
      assert.equal((await verify()).code, 0);
      rmSync(file);
      out = await verify();
      assert.equal(out.code, 1);
      assert.match(out.stdout, new RegExp(`FAIL recording ${rec.id} .*file missing`));
      writeFileSync(file, content);
      await staff.post(`/api/visits/${visit.id}/cancel`, { reason: 'test over' });
    });

    test('retention deletes a recording past its days, audited, and verify still passes', async () => {
      const visit = await book();
      const file = path.join(recordings, `visit-${visit.id}`, 'old.mp4');
      mkdirSync(path.dirname(file), { recursive: true });
      writeFileSync(file, randomBytes(1000));
      const egressId = `EG_old_${visit.id}`;
      const ns = (ms) => String(BigInt(ms) * 1000000n);
      const threeDaysAgo = Date.now() - 3 * 86400e3;
      await signedWebhook(dev.appUrl, { event: 'egress_ended', id: `EV_${egressId}`, createdAt: '1',
        room: { name: `visit-${visit.id}` },
        egressInfo: { egressId, roomName: `visit-${visit.id}`, status: 'EGRESS_COMPLETE',
          startedAt: ns(threeDaysAgo - 600e3), endedAt: ns(threeDaysAgo),
          fileResults: [{ filename: `visit-${visit.id}/old.mp4`, location: file }] } });
      const rec = await waitFor(async () => (await staff.get(`/api/recordings?visitId=${visit.id}`)).body.recordings
        .find((r) => r.egressId === egressId && r.sha256), { timeoutMs: 10000, what: 'the recording hashed' });
      assert.equal(rec.deleted, false);
      assert.ok(existsSync(file), 'kept for 90 days by default');

      const rules = (await staff.get('/api/rules')).body.rules;
      assert.equal((await staff.request('PUT', '/api/rules', { ...rules, recordingRetentionDays: 4 })).status, 200);
      const stillThere = (await staff.get(`/api/recordings?visitId=${visit.id}`)).body.recordings[0];
      assert.equal(stillThere.deleted, false);
      assert.equal((await staff.request('PUT', '/api/rules', { ...rules, recordingRetentionDays: 2 })).status, 200);
      const gone = await waitFor(async () => (await staff.get(`/api/recordings?visitId=${visit.id}`)).body.recordings
        .find((r) => r.id === rec.id && r.deleted), { timeoutMs: 10000, what: 'retention' });
      assert.ok(gone.deletedAt);
      assert.ok(!existsSync(file), 'the file is deleted');
      const [entry] = await audit((e) => e.action === 'recording.deleted' && e.target === `recording:${rec.id}`);
      assert.equal(entry.actor, 'system');
      assert.equal(entry.details.retentionDays, 2);
      assert.equal(entry.details.fileRemoved, true);
      assert.equal((await staff.get(`/api/recordings/${rec.id}/download`)).status, 410);
      // Other recordings (3 days is not yet 90, but these ended just now) are untouched.
      const out = await verify();
      assert.equal(out.code, 0, out.stdout + out.stderr);
      assert.match(out.stdout, /1 deleted by retention/);
      await staff.request('PUT', '/api/rules', rules);
      await staff.post(`/api/visits/${visit.id}/cancel`, { reason: 'test over' });
    });
  });
}

after(async () => { await dispose(); });

/** Starts `parlor app` alone (no media server needed) until it listens; returns its output. */
async function appStartup(dir, env) {
  const { spawn } = await import('node:child_process');
  const { parlorBin } = await import('../lib/media.js');
  const proc = spawn(parlorBin, ['app', '--port', '0', '--data-dir', dir], {
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  await new Promise((resolve, reject) => {
    proc.stdout.on('data', (d) => { out += d; if (/video: /.test(out)) resolve(); });
    proc.on('exit', (code) => reject(new Error(`parlor app exited ${code}:\n${err}`)));
  });
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
  return out;
}

test('the E2EE secret: short ones refused; without one, SQLite keeps a generated key file (0600) across restarts', async () => {
  const env = {
    VIDEO_PROVIDER: 'livekit',
    LIVEKIT_URL: 'ws://127.0.0.1:9',  // never reached
    LIVEKIT_API_KEY: 'appkey',
    LIVEKIT_API_SECRET: 'a-test-secret-of-at-least-32-characters',
    PARLOR_E2EE_SECRET: '',
  };
  const dir = mkdtempSync(path.join(tmpdir(), 'parlor-e2ee-'));
  try {
    const short = await runParlor(['app', '--port', '0', '--data-dir', dir], { env: { ...env, PARLOR_E2EE_SECRET: 'x'.repeat(31) } });
    assert.equal(short.code, 2, short.stderr);
    assert.match(short.stderr, /^parlor app: PARLOR_E2EE_SECRET must be at least 32 characters/);

    const out = await appStartup(dir, env);
    const keyFile = path.join(dir, 'e2ee.key');
    assert.match(out, /e2ee: privileged visits' keys derived from .*e2ee\.key/);
    const { statSync, readFileSync } = await import('node:fs');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    const key = readFileSync(keyFile, 'utf8');
    assert.ok(key.trim().length >= 32);
    await appStartup(dir, env);
    assert.equal(readFileSync(keyFile, 'utf8'), key, 'made once, then kept');
    // A configured secret wins and no file is needed.
    const withSecret = await appStartup(dir, { ...env, PARLOR_E2EE_SECRET: 'y'.repeat(40) });
    assert.doesNotMatch(withSecret, /e2ee\.key/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
