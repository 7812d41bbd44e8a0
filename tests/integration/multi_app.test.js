// Several `parlor app` instances on one PostgreSQL (issue 15): two instances started together on
// a fresh database (they take turns migrating), one `parlor media` sending every webhook to both.
// A webhook delivered to both at once changes a visit once; a visit's time limit fires once
// while both run their jobs every 100 ms, with the race forced (the visits' rows held locked by
// the test across their end; without the jobs lock both instances end them, checked by hand); a session made on one instance is valid on the other;
// sign-in attempts are counted across both. Real processes, real clients (livekit-server-sdk's
// token signing, @livekit/rtc-node), the database read back with psql.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AccessToken } from 'livekit-server-sdk';
import { Room, RoomEvent, dispose } from '@livekit/rtc-node';
import { ApiSession } from '../lib/dev.js';
import { startMedia, parlorBin, runParlor, devKey, devSecret, waitFor } from '../lib/media.js';

const pgBase = process.env.PARLOR_TEST_PG_URL;
if (!pgBase && process.env.CI) {
  test('PostgreSQL is available in CI', () => {
    assert.fail('PARLOR_TEST_PG_URL is not set: run the tests through scripts/with-services.sh');
  });
}

const STAFF = ['staff@multi.org', 'staff-multi-password'];
const VISITOR = ['visitor@multi.org', 'visitor-multi-password'];
const PER_ACCOUNT = 3;

/** A port that was free a moment ago (the media server needs the apps' URLs before they start). */
function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); });
  });
}

async function startApp({ port, dbUrl, mediaUrl, dir }) {
  mkdirSync(dir, { recursive: true });
  const proc = spawn(parlorBin, ['app', '--port', String(port), '--data-dir', dir, '--database-url', dbUrl,
    '--dev', '--jobs-interval-ms', '100', '--reconcile-interval-ms', '1000',
    '--login-attempts-per-minute', String(PER_ACCOUNT)], {
    env: { ...process.env, ASAN_OPTIONS: 'detect_leaks=0', VIDEO_PROVIDER: 'livekit', LIVEKIT_URL: mediaUrl,
      LIVEKIT_API_KEY: devKey, LIVEKIT_API_SECRET: devSecret },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let err = '';
  proc.stderr.on('data', (d) => { err += d; });
  await new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`parlor app did not start:\n${err}`)), 20000);
    proc.stdout.on('data', (d) => {
      out += d;
      if (/listening app=/.test(out)) { clearTimeout(timer); resolve(); }
    });
    proc.on('exit', (code) => { clearTimeout(timer); reject(new Error(`parlor app exited ${code}:\n${err}`)); });
  });
  return {
    base: `http://127.0.0.1:${port}`,
    logs: () => err,
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      return proc.exitCode;
    },
  };
}

async function signed(event) {
  const body = JSON.stringify(event);
  const at = new AccessToken(devKey, devSecret, { ttl: '5m' });
  at.sha256 = createHash('sha256').update(body).digest('base64');
  return { body, auth: await at.toJwt() };
}

describe('two parlor app instances on one PostgreSQL', { skip: !pgBase && 'PARLOR_TEST_PG_URL is not set' }, () => {
  let dbUrl;
  let dir;
  let media;
  let a;
  let b;
  let staff;
  let visitorId;
  let residentId;
  const rooms = [];

  const sql = (query) => execFileSync('psql', [dbUrl, '-qtA', '-c', query]).toString().trim();
  const count = (query) => Number(sql(query));
  const appBackends = `FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = current_database() ` +
    `AND pid <> pg_backend_pid() AND application_name <> 'parlor-test-holder'`;
  /** Opens a transaction that locks what `query` selects; release() rolls it back. */
  const holdRows = async (query) => {
    const holder = spawn('psql', [dbUrl, '-qtA', '-v', 'ON_ERROR_STOP=1'], {
      env: { ...process.env, PGAPPNAME: 'parlor-test-holder' }, stdio: ['pipe', 'pipe', 'pipe'],
    });
    let out = '';
    holder.stdout.on('data', (d) => { out += d; });
    holder.stdin.write(`BEGIN;\nSELECT 'locked' FROM (${query}) x LIMIT 1;\n`);
    await waitFor(() => out.includes('locked'), { timeoutMs: 5000, what: 'the row lock' });
    return {
      async release() {
        const exited = new Promise((r) => (holder.exitCode === null ? holder.once('exit', r) : r()));
        holder.stdin.end('ROLLBACK;\n');
        await exited;
      },
    };
  };
  const auditCount = (action, visitId) =>
    count(`SELECT COUNT(*) FROM audit_log WHERE action = '${action}' AND target = 'visit:${visitId}'`);

  before(async () => {
    const name = `parlor_multi_${process.pid}_${Date.now()}_${randomBytes(3).toString('hex')}`;
    execFileSync('psql', [pgBase, '-q', '-c', `CREATE DATABASE ${name}`]);
    dbUrl = pgBase.replace(/\/[^/]*$/, `/${name}`);
    dir = mkdtempSync(path.join(tmpdir(), 'parlor-multi-'));
    const [portA, portB] = [await freePort(), await freePort()];
    const hook = (p) => `http://127.0.0.1:${p}/webhooks/livekit`;
    media = await startMedia({
      config: `development: true\nkeys:\n  ${devKey}: ${devSecret}\nroom:\n  auto_create: false\n` +
        `webhook:\n  api_key: ${devKey}\n  urls: [${hook(portA)}, ${hook(portB)}]\n`,
    });
    // Both at once on the empty database: the migrations take turns.
    [a, b] = await Promise.all([
      startApp({ port: portA, dbUrl, mediaUrl: media.url, dir: path.join(dir, 'a') }),
      startApp({ port: portB, dbUrl, mediaUrl: media.url, dir: path.join(dir, 'b') }),
    ]);
    assert.equal(count('SELECT MAX(version) FROM schema_migrations'), count('SELECT COUNT(*) FROM schema_migrations'));
    const made = await runParlor(['admin', 'create-user', '--email', STAFF[0], '--name', 'Staff', '--role', 'staff',
      '--password', STAFF[1], '--database-url', dbUrl]);
    assert.equal(made.code, 0, made.stderr);
    staff = new ApiSession(a.base);
    assert.equal((await staff.login(...STAFF)).status, 200);
    const resident = await staff.post('/api/residents', { name: 'Rita Resident', unit: 'A1' });
    assert.equal(resident.status, 201, JSON.stringify(resident.body));
    residentId = resident.body.resident.id;
    const visitor = await staff.post('/api/visitors', { name: 'Victor Visitor', email: VISITOR[0], password: VISITOR[1] });
    assert.equal(visitor.status, 201, JSON.stringify(visitor.body));
    visitorId = visitor.body.visitor.id;
    const ask = await staff.post('/api/approvals', { residentId, visitorId });
    assert.equal(ask.status, 201, JSON.stringify(ask.body));
    const decided = await staff.post(`/api/approvals/${ask.body.approval.id}/decision`, { status: 'approved' });
    assert.equal(decided.status, 200, JSON.stringify(decided.body));
  });

  after(async () => {
    for (const r of rooms) await r.disconnect().catch(() => {});
    await dispose();
    const codes = [await a?.stop() ?? 0, await b?.stop() ?? 0];
    await media?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
    assert.deepEqual(codes, [0, 0], 'both instances exit cleanly');
  });

  const book = async (startInSeconds, durationMinutes) => {
    const res = await staff.post('/api/visits', {
      residentId, visitorIds: [visitorId], start: new Date(Date.now() + startInSeconds * 1000).toISOString(), durationMinutes,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.visit;
  };

  test('a session made on one instance is valid on the other, and so is its logout', async () => {
    const s = new ApiSession(a.base);
    assert.equal((await s.login(...VISITOR)).status, 200);
    s.base = b.base;
    const me = await s.get('/api/auth/me');
    assert.equal(me.status, 200, JSON.stringify(me.body));
    assert.equal(me.body.user.email, VISITOR[0]);
    assert.equal((await s.post('/api/auth/logout')).status, 200);
    s.base = a.base;
    assert.equal((await s.get('/api/auth/me')).status, 401);
  });

  test('sign-in attempts are counted across both instances', async () => {
    // The limit is per minute: a run that straddles a minute boundary is repeated.
    for (let round = 0; ; ++round) {
      const minute = Math.floor(Date.now() / 60000);
      const account = `guess-${round}-${randomBytes(3).toString('hex')}@multi.org`;
      const statuses = [];
      for (let i = 0; i < PER_ACCOUNT; ++i) {
        statuses.push((await new ApiSession(i % 2 ? b.base : a.base).login(account, 'wrong-password')).status);
      }
      const last = await new ApiSession(b.base).login(account, 'wrong-password');
      const other = await new ApiSession(a.base).login(account, 'wrong-password');
      if (Math.floor(Date.now() / 60000) !== minute && round < 3) continue;
      assert.deepEqual(statuses, Array(PER_ACCOUNT).fill(401));
      assert.equal(last.status, 429, 'the attempt after the limit, on the other instance, is refused');
      assert.ok(Number(last.headers.get('retry-after')) >= 1);
      assert.equal(other.status, 429);
      break;
    }
    // The table holds keyed hashes, not addresses.
    assert.equal(count(`SELECT COUNT(*) FROM login_attempts WHERE account LIKE '%@%'`), 0);
    assert.ok(count('SELECT COUNT(*) FROM login_attempts') >= 2);
  });

  test('the same webhook delivered to both instances at once changes the visit once', async () => {
    const visit = await book(-60, 30);
    const room = visit.room;
    assert.ok(room, JSON.stringify(visit));
    const events = [
      { event: 'participant_joined', participant: { identity: `visitor-${visitorId}`, sid: 'PA_x' } },
      { event: 'participant_left', participant: { identity: `visitor-${visitorId}`, sid: 'PA_x' } },
      { event: 'participant_joined', participant: { identity: `resident-${residentId}`, sid: 'PA_y' } },
      { event: 'room_finished' },
    ].map((e, i) => ({ ...e, id: `EV_multi_${visit.id}_${i}`, room: { name: room, sid: 'RM_x' }, createdAt: String(Math.floor(Date.now() / 1000)) }));
    for (const e of events) {
      const { body, auth } = await signed(e);
      const post = (base) => fetch(`${base}/webhooks/livekit`, {
        method: 'POST', headers: { Authorization: auth, 'Content-Type': 'application/webhook+json' }, body,
      });
      // Both instances, several times each, all in flight together. For the first event the race
      // is forced: the visit's row is held locked, so the instance that claims the event waits at
      // its UPDATE with the claim not yet committed while the other receives the same event.
      const lock = e === events[0] ? await holdRows(`SELECT id FROM visits WHERE id = ${visit.id} FOR UPDATE`) : null;
      const pending = Promise.all([a.base, b.base, a.base, b.base].map(post));
      if (lock) {
        await waitFor(() => count(`SELECT COUNT(*) ${appBackends} AND wait_event_type = 'Lock'`) >= 2,
          { timeoutMs: 10000, intervalMs: 50, what: 'both instances to wait on the first event' });
        await lock.release();
      }
      const answers = await pending;
      assert.deepEqual(answers.map((r) => r.status), [200, 200, 200, 200], `${e.event} answered 200 everywhere`);
    }
    const ids = events.map((e) => `'${e.id}'`).join(',');
    assert.equal(count(`SELECT COUNT(*) FROM webhook_events WHERE event_id IN (${ids})`), events.length);
    // One call event per participant webhook (the media server's own room events for this room,
    // e.g. room_started when a job opened it, come on top).
    const calls = sql(`SELECT type || ' ' || identity FROM call_events WHERE visit_id = ${visit.id} ORDER BY id`).split('\n');
    for (const e of events.filter((x) => x.participant)) {
      const line = `${e.event} ${e.participant?.identity ?? ''}`.trim();
      const seen = calls.filter((c) => c.trim() === line).length;
      const expected = events.filter((x) => `${x.event} ${x.participant?.identity ?? ''}`.trim() === line).length;
      assert.equal(seen, expected, `${line}: ${JSON.stringify(calls)}`);
    }
    assert.equal(auditCount('visit.live', visit.id), 1);
    assert.equal(auditCount('visit.completed', visit.id), 1);
    assert.equal((await staff.get(`/api/visits/${visit.id}`)).body.visit.status, 'completed');
  });

  test('a visit\'s time limit fires once with both instances running their jobs', async () => {
    // Ends about 15 s from now; the join window is open. Alongside it, visits of other residents
    // that end in the same second (made live by signed webhooks): every run then has several
    // visits to end, with media calls in between, so the two instances' runs overlap.
    const visit = await book(-45, 1);
    const end = Date.parse(visit.end);
    const others = [];
    for (let i = 0; i < 6; ++i) {
      const r = await staff.post('/api/residents', { name: `Resident ${i}`, unit: `B${i}` });
      assert.equal(r.status, 201, JSON.stringify(r.body));
      const rid = r.body.resident.id;
      const ask = await staff.post('/api/approvals', { residentId: rid, visitorId });
      assert.equal(ask.status, 201, JSON.stringify(ask.body));
      await staff.post(`/api/approvals/${ask.body.approval.id}/decision`, { status: 'approved' });
      const v = await staff.post('/api/visits', { residentId: rid, visitorIds: [visitorId], start: visit.start, durationMinutes: 1 });
      assert.equal(v.status, 201, JSON.stringify(v.body));
      const { body, auth } = await signed({ id: `EV_live_${v.body.visit.id}`, event: 'participant_joined',
        room: { name: v.body.visit.room }, participant: { identity: `resident-${rid}` } });
      const res = await fetch(`${a.base}/webhooks/livekit`, { method: 'POST', headers: { Authorization: auth }, body });
      assert.equal(res.status, 200);
      others.push(v.body.visit);
    }
    for (const o of others) assert.equal(sql(`SELECT status FROM visits WHERE id = ${o.id}`), 'live');
    const person = new ApiSession(b.base);
    assert.equal((await person.login(...VISITOR)).status, 200);
    const join = await waitFor(async () => {
      const r = await person.post('/api/calls/join', { visitId: visit.id });
      return r.status === 200 ? r : null;
    }, { timeoutMs: 10000, what: 'a join token' });
    const messages = [];
    let disconnected = false;
    const r = new Room();
    rooms.push(r);
    r.on(RoomEvent.DataReceived, (payload, p, kind, topic) => {
      if (topic === 'parlor') messages.push(JSON.parse(new TextDecoder().decode(payload)).type);
    });
    r.on(RoomEvent.Disconnected, () => { disconnected = true; });
    await r.connect(join.body.url, join.body.token, { autoSubscribe: false, dynacast: false });
    // The media server tells both instances of the join: the visit goes live once.
    await waitFor(async () => (await staff.get(`/api/visits/${visit.id}`)).body.visit.status === 'live',
      { timeoutMs: 10000, what: 'the visit to go live' });
    assert.ok(Date.now() < end, 'the visit went live before its end (the test machine was too slow)');
    const all = [visit, ...others].map((v) => v.id).join(',');
    const targets = [visit, ...others].map((v) => `'visit:${v.id}'`).join(',');
    await waitFor(() => count(`SELECT COUNT(*) FROM audit_log WHERE action = 'visit.warning' AND target IN (${targets})`) === others.length + 1,
      { timeoutMs: 10000, what: 'the two-minute warnings' });
    // Force the race: hold the visits' rows locked across their end, so a run that read them as
    // live waits at its UPDATE. Released once one instance waits there and the other has shown
    // what it does meanwhile: with the jobs lock it skips its ticks (its last statement is the
    // failed pg_try_advisory_lock); without it, it would wait at the same UPDATE and end the
    // visits a second time.
    const lock = await holdRows(`SELECT id FROM visits WHERE id IN (${all}) FOR UPDATE`);
    await waitFor(() => {
      const waiting = count(`SELECT COUNT(*) ${appBackends} AND wait_event_type = 'Lock'`);
      const skipping = count(`SELECT COUNT(*) ${appBackends} AND wait_event_type IS DISTINCT FROM 'Lock' AND query LIKE '%pg_try_advisory_lock%'`);
      return waiting >= 1 && waiting + skipping >= 2;
    }, { timeoutMs: end - Date.now() + 15000, intervalMs: 50, what: 'a job run to wait at the locked rows' });
    await lock.release();
    await waitFor(async () => (await staff.get(`/api/visits/${visit.id}`)).body.visit.status === 'completed',
      { timeoutMs: end - Date.now() + 15000, what: 'the time limit' });
    await waitFor(() => disconnected, { timeoutMs: 10000, what: 'the room to close' });
    // The media server reports the closed room to both instances; by then any run that raced
    // the one that ended the visit has finished.
    await waitFor(() => count(`SELECT COUNT(*) FROM call_events WHERE visit_id = ${visit.id} AND type = 'room_finished'`) === 1,
      { timeoutMs: 10000, what: 'room_finished from the media server' });
    assert.equal(auditCount('visit.live', visit.id), 1);
    assert.equal(auditCount('visit.warning', visit.id), 1);
    assert.equal(auditCount('visit.completed', visit.id), 1);
    // (The warning may go out before the participant's data channel is up: at most once.)
    assert.ok(messages.filter((m) => m === 'visit_warning').length <= 1, JSON.stringify(messages));
    // visit_ended goes out right before DeleteRoom, which may tear the data channel down first:
    // at most once (a second one would come from a second run ending the visit).
    assert.ok(messages.filter((m) => m === 'visit_ended').length <= 1, JSON.stringify(messages));
    assert.equal(sql(`SELECT ended_reason FROM visits WHERE id = ${visit.id}`), 'time limit reached');
    // A second DeleteRoom would fail (the room is gone) and be logged by the instance that sent it.
    for (const app of [a, b]) assert.doesNotMatch(app.logs(), new RegExp(`closing room ${visit.room} failed`));
    assert.equal(sql(`SELECT room_opened FROM visits WHERE id = ${visit.id}`), '0');
    for (const o of others) {
      await waitFor(() => sql(`SELECT status FROM visits WHERE id = ${o.id}`) === 'completed', { timeoutMs: 10000, what: `visit ${o.id} completed` });
      await waitFor(() => count(`SELECT COUNT(*) FROM call_events WHERE visit_id = ${o.id} AND type = 'room_finished'`) === 1,
        { timeoutMs: 10000, what: `room_finished of visit ${o.id}` });
      assert.equal(auditCount('visit.completed', o.id), 1, `visit ${o.id} completed once`);
      assert.equal(auditCount('visit.warning', o.id), 1, `visit ${o.id} warned once`);
      for (const app of [a, b]) assert.doesNotMatch(app.logs(), new RegExp(`closing room ${o.room} failed`));
    }
  });
});
