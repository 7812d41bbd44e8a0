// A visit's room lives exactly as long as the visit: the app opens it (CreateRoom) when the join
// window opens, closes it (DeleteRoom) on every final status, and the media server of `parlor dev`
// never creates a room on join (room.auto_create: false). Real clients: livekit-server-sdk's
// RoomServiceClient and @livekit/rtc-node participants. On SQLite and on PostgreSQL.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes, createHash } from 'node:crypto';
import { TokenVerifier, RoomServiceClient, AccessToken } from 'livekit-server-sdk';
import { Room, RoomEvent, dispose } from '@livekit/rtc-node';
import { startDev, ApiSession } from '../lib/dev.js';
import { devKey, devSecret, waitFor } from '../lib/media.js';

const GRACE_SECONDS = 90;

function postgresUrl() {
  const base = process.env.PARLOR_TEST_PG_URL;
  if (!base) return null;
  const name = `parlor_rooms_${process.pid}_${Date.now()}_${randomBytes(3).toString('hex')}`;
  execFileSync('psql', [base, '-q', '-c', `CREATE DATABASE ${name}`]);
  return base.replace(/\/[^/]*$/, `/${name}`);
}

const databases = [['SQLite', () => null]];
if (process.env.PARLOR_TEST_PG_URL) databases.push(['PostgreSQL', postgresUrl]);

/** A participant on the real media server; records how it was disconnected. */
class Participant {
  constructor() {
    this.room = new Room();
    this.disconnected = null;
    this.connected = false;
    this.room.on(RoomEvent.Disconnected, (reason) => { this.disconnected = reason ?? 'disconnected'; });
  }

  /** Resolves to null once connected, or to the error that refused the join. */
  async connect(url, token) {
    try {
      await this.room.connect(url, token, { autoSubscribe: false, dynacast: false });
      this.connected = true;
      return null;
    } catch (err) {
      return err;
    }
  }

  async leave() {
    if (this.connected && !this.disconnected) await this.room.disconnect().catch(() => {});
  }
}

async function signedWebhook(appUrl, event) {
  const body = JSON.stringify(event);
  const at = new AccessToken(devKey, devSecret, { ttl: '5m' });
  at.sha256 = createHash('sha256').update(body).digest('base64');
  const res = await fetch(`${appUrl}/webhooks/livekit`, {
    method: 'POST',
    headers: { Authorization: await at.toJwt(), 'Content-Type': 'application/webhook+json' },
    body,
  });
  assert.equal(res.status, 200);
}

async function adminToken(identity, room) {
  const at = new AccessToken(devKey, devSecret, { identity, ttl: '10m' });
  at.addGrant({ roomJoin: true, room });
  return at.toJwt();
}

/** Starts `parlor dev` and signs in staff, the resident, the approved visitor and a second one. */
async function startApp(makeUrl, { reconcileMs }) {
  const url = makeUrl();
  const args = ['--jobs-interval-ms', '200', '--reconcile-interval-ms', String(reconcileMs),
    '--token-grace-seconds', String(GRACE_SECONDS)];
  const dev = await startDev({ args: url ? [...args, '--database-url', url] : args });
  const staff = new ApiSession(dev.appUrl);
  const resident = new ApiSession(dev.appUrl);
  const visitor = new ApiSession(dev.appUrl);
  assert.equal((await staff.login('staff@parlor.local', 'parlor-staff')).status, 200);
  assert.equal((await resident.login('resident@parlor.local', 'parlor-resident')).status, 200);
  assert.equal((await visitor.login('visitor@parlor.local', 'parlor-visitor')).status, 200);
  // A second approved visitor of the demo resident.
  const made = await staff.post('/api/visitors', { name: 'Paula Partner', email: 'paula@x.org', password: 'paula-visits' });
  assert.equal(made.status, 201, JSON.stringify(made.body));
  const ask = await staff.post('/api/approvals', { residentId: 1, visitorId: made.body.visitor.id });
  assert.equal(ask.status, 201, JSON.stringify(ask.body));
  await staff.post(`/api/approvals/${ask.body.approval.id}/decision`, { status: 'approved' });
  const visitor2 = new ApiSession(dev.appUrl);
  assert.equal((await visitor2.login('paula@x.org', 'paula-visits')).status, 200);
  const rooms = new RoomServiceClient(dev.mediaHttpUrl, devKey, devSecret);
  const book = async ({ visitorIds = [1], startInSeconds = -60, durationMinutes = 30 } = {}) => {
    const res = await staff.post('/api/visits', {
      residentId: 1, visitorIds, start: new Date(Date.now() + startInSeconds * 1000).toISOString(), durationMinutes,
    });
    assert.equal(res.status, 201, JSON.stringify(res.body));
    return res.body.visit;
  };
  const roomOf = async (name) => (await rooms.listRooms([name]))[0];
  const audit = async (filter) => (await staff.get('/api/audit?limit=1000')).body.entries.filter(filter);
  return { dev, staff, resident, visitor, visitor2, visitor2Id: made.body.visitor.id, rooms, book, roomOf, audit };
}

for (const [dbName, makeUrl] of databases) {
  describe(`visit rooms on ${dbName}`, () => {
    let app;
    const participants = [];
    const participant = () => { const p = new Participant(); participants.push(p); return p; };

    before(async () => {
      // The room check is tested on its own instance below; here it must not race the tests.
      app = await startApp(makeUrl, { reconcileMs: 600000 });
    });

    after(async () => {
      for (const p of participants) await p.leave();
      assert.equal(await app?.dev.stop(), 0);
    });

    test('the room opens with the join window; tokens expire at the visit\'s end plus the grace', async () => {
      const { book, roomOf, visitor, staff } = app;
      // The demo rules open the window 10 minutes before the start: this one opens in ~3 s.
      const visit = await book({ startInSeconds: 10 * 60 + 3, durationMinutes: 20 });
      const name = `visit-${visit.id}`;
      assert.equal(await roomOf(name), undefined, 'no room before the window opens');
      const early = await visitor.post('/api/calls/join', { visitId: visit.id });
      assert.equal(early.status, 409);
      const room = await waitFor(() => roomOf(name), { timeoutMs: 10000, what: `${name} opened` });
      assert.equal(room.maxParticipants, 1 + 1 + 2, 'resident, one visitor, two monitor places');
      assert.ok(room.emptyTimeout > 20 * 60, `emptyTimeout ${room.emptyTimeout}`);

      const join = await visitor.post('/api/calls/join', { visitId: visit.id });
      assert.equal(join.status, 200, JSON.stringify(join.body));
      const claims = await new TokenVerifier(devKey, devSecret).verify(join.body.token);
      const end = Date.parse(visit.end) / 1000;
      assert.equal(claims.exp, end + GRACE_SECONDS);
      assert.equal(Date.parse(join.body.expiresAt) / 1000, end + GRACE_SECONDS);
      const monitor = await staff.post('/api/calls/join', { visitId: visit.id, monitor: true });
      assert.equal((await new TokenVerifier(devKey, devSecret).verify(monitor.body.token)).exp, end + GRACE_SECONDS);
      await staff.post(`/api/visits/${visit.id}/cancel`, { reason: 'test over' });
      await waitFor(async () => !(await roomOf(name)), { timeoutMs: 5000, what: `${name} closed on cancel` });
    });

    test('a join inside the window reopens a room the media server lost', async () => {
      const { book, roomOf, rooms, resident } = app;
      const visit = await book();
      const name = `visit-${visit.id}`;
      await waitFor(() => roomOf(name), { timeoutMs: 5000, what: `${name} opened` });
      await rooms.deleteRoom(name);  // as a restarted media server would have lost it
      assert.equal(await roomOf(name), undefined, 'the jobs do not reopen a room they opened');
      const join = await resident.post('/api/calls/join', { visitId: visit.id });
      assert.equal(join.status, 200, JSON.stringify(join.body));
      assert.ok(await roomOf(name), 'the join opened the room again');
      const p = participant();
      assert.equal(await p.connect(join.body.url, join.body.token), null);
      await p.leave();
      await app.staff.post(`/api/visits/${visit.id}/moderation/end`, {});
    });

    test('tokens handed out before a staff end cannot start the visit again', async () => {
      const { book, roomOf, staff, visitor, resident, dev } = app;
      const visit = await book();
      const name = `visit-${visit.id}`;
      const vj = (await visitor.post('/api/calls/join', { visitId: visit.id })).body;
      const rj = (await resident.post('/api/calls/join', { visitId: visit.id })).body;
      const inCall = participant();
      assert.equal(await inCall.connect(vj.url, vj.token), null);
      await waitFor(async () => (await staff.get(`/api/visits/${visit.id}`)).body.visit.status === 'live',
        { timeoutMs: 5000, what: 'visit live' });

      const end = await staff.post(`/api/visits/${visit.id}/moderation/end`, { reason: 'rules broken' });
      assert.equal(end.status, 200, JSON.stringify(end.body));
      assert.equal(end.body.visit.status, 'terminated');
      await waitFor(() => inCall.disconnected, { timeoutMs: 5000, what: 'the participant disconnected' });

      for (const token of [vj.token, rj.token]) {
        const again = participant();
        const refused = await again.connect(dev.mediaUrl, token);
        assert.ok(refused, 'an old token cannot start the visit again');
        const validate = await fetch(`${dev.mediaHttpUrl}/rtc/validate?access_token=${token}`);
        assert.equal(validate.status, 404);
        assert.match(await validate.text(), /requested room does not exist/);
      }
      assert.equal(await roomOf(name), undefined);
      assert.deepEqual(await app.rooms.listRooms([name]), []);
      const joinAgain = await visitor.post('/api/calls/join', { visitId: visit.id });
      assert.equal(joinAgain.status, 409);
    });

    test('tokens handed out before a cancel cannot start the visit', async () => {
      const { book, roomOf, visitor, dev } = app;
      const visit = await book();
      const name = `visit-${visit.id}`;
      const vj = (await visitor.post('/api/calls/join', { visitId: visit.id })).body;
      assert.ok(await roomOf(name));
      const cancel = await visitor.post(`/api/visits/${visit.id}/cancel`, { reason: 'sick' });
      assert.equal(cancel.status, 200, JSON.stringify(cancel.body));
      assert.equal(cancel.body.visit.status, 'cancelled');
      assert.deepEqual(await app.rooms.listRooms([name]), []);
      const p = participant();
      assert.ok(await p.connect(dev.mediaUrl, vj.token), 'the old token is refused');
      assert.deepEqual(await app.rooms.listRooms([name]), []);
    });

    test('the room is gone after completion and after a missed visit', async () => {
      const { book, roomOf, resident, staff } = app;
      // Staff may book visits that started in the past: these end a few seconds from now.
      const live = await book({ startInSeconds: -30 * 60 + 6 });
      const idle = await book({ startInSeconds: -30 * 60 + 4 });
      await waitFor(() => roomOf(`visit-${idle.id}`), { timeoutMs: 5000, what: 'idle room opened' });
      const rj = (await resident.post('/api/calls/join', { visitId: live.id })).body;
      const p = participant();
      assert.equal(await p.connect(rj.url, rj.token), null);
      await waitFor(async () => (await staff.get(`/api/visits/${idle.id}`)).body.visit.status === 'missed',
        { timeoutMs: 15000, what: 'idle visit missed' });
      assert.equal(await roomOf(`visit-${idle.id}`), undefined, 'a missed visit\'s room is closed');
      await waitFor(async () => (await staff.get(`/api/visits/${live.id}`)).body.visit.status === 'completed',
        { timeoutMs: 15000, what: 'live visit completed' });
      assert.equal(await roomOf(`visit-${live.id}`), undefined, 'a completed visit\'s room is closed');
      await waitFor(() => p.disconnected, { timeoutMs: 5000, what: 'participant disconnected at the limit' });
    });

    test('a visitor\'s cancel on a two-visitor visit removes only that visitor', async () => {
      const { book, roomOf, staff, visitor, visitor2, visitor2Id, resident, dev, audit } = app;
      const visit = await book({ visitorIds: [1, visitor2Id] });
      const name = `visit-${visit.id}`;
      const rj = (await resident.post('/api/calls/join', { visitId: visit.id })).body;
      const v2j = (await visitor2.post('/api/calls/join', { visitId: visit.id })).body;
      assert.equal(v2j.identity, `visitor-${visitor2Id}`);
      const res = participant();
      const v2 = participant();
      assert.equal(await res.connect(rj.url, rj.token), null);
      assert.equal(await v2.connect(v2j.url, v2j.token), null);

      const leave = await visitor2.post(`/api/visits/${visit.id}/cancel`, { reason: 'cannot make it' });
      assert.equal(leave.status, 200, JSON.stringify(leave.body));
      assert.equal(leave.body.left, true);
      assert.deepEqual(leave.body.visit.visitors.map((v) => v.id), [1]);
      assert.notEqual(leave.body.visit.status, 'cancelled');
      await waitFor(() => v2.disconnected, { timeoutMs: 5000, what: 'the leaving visitor removed from the room' });
      assert.ok(!res.disconnected, 'the resident stays');
      assert.equal((await visitor2.get(`/api/visits/${visit.id}`)).status, 404);
      assert.equal((await visitor2.post('/api/calls/join', { visitId: visit.id })).status, 404);
      assert.equal((await visitor.get(`/api/visits/${visit.id}`)).body.visit.status, leave.body.visit.status);
      const left = await audit((e) => e.action === 'visit.left' && e.target === `visit:${visit.id}`);
      assert.equal(left.length, 1);
      assert.equal(left[0].details.visitorId, visitor2Id);

      // Their old token still names the room: the app removes them as soon as they come back.
      const back = participant();
      await back.connect(dev.mediaUrl, v2j.token);
      await waitFor(async () => (await audit((e) => e.action === 'call.removed' && e.target === `visit:${visit.id}`)).length,
        { timeoutMs: 5000, what: 'call.removed audit' });
      await waitFor(async () => !(await app.rooms.listParticipants(name)).some((p) => p.identity === v2j.identity),
        { timeoutMs: 5000, what: 'the old token\'s participant gone' });
      assert.ok(!res.disconnected, 'the resident stays');

      await staff.post(`/api/visits/${visit.id}/moderation/end`, {});
    });

    test('the last visitor\'s cancel cancels the visit for everyone and closes its room', async () => {
      const { book, roomOf, visitor, visitor2, visitor2Id, audit } = app;
      const visit = await book({ visitorIds: [1, visitor2Id] });
      const name = `visit-${visit.id}`;
      await waitFor(() => roomOf(name), { timeoutMs: 5000, what: `${name} opened` });
      assert.equal((await visitor2.post(`/api/visits/${visit.id}/cancel`, {})).body.left, true);
      assert.ok(await roomOf(name), 'one visitor leaving keeps the room');
      const last = await visitor.post(`/api/visits/${visit.id}/cancel`, { reason: 'no longer' });
      assert.equal(last.status, 200, JSON.stringify(last.body));
      assert.equal(last.body.visit.status, 'cancelled');
      assert.equal(last.body.left, undefined);
      assert.equal(await roomOf(name), undefined);
      const entries = await audit((e) => e.target === `visit:${visit.id}`);
      assert.equal(entries.filter((e) => e.action === 'visit.left').length, 1);
      assert.equal(entries.filter((e) => e.action === 'visit.cancelled').length, 1);
    });

    test('"end" on an already completed visit with people in its room closes the room', async () => {
      const { book, roomOf, staff, resident, audit } = app;
      const visit = await book();
      const name = `visit-${visit.id}`;
      const rj = (await resident.post('/api/calls/join', { visitId: visit.id })).body;
      const p = participant();
      assert.equal(await p.connect(rj.url, rj.token), null);
      await waitFor(async () => (await staff.get(`/api/visits/${visit.id}`)).body.visit.status === 'live',
        { timeoutMs: 5000, what: 'visit live' });
      // A room_finished the media tier sent (say, for an earlier room of the same name) completes it,
      // while someone is still in the room.
      await signedWebhook(app.dev.appUrl, { event: 'room_finished', id: `EV_done_${visit.id}`, createdAt: '1', room: { name } });
      assert.equal((await staff.get(`/api/visits/${visit.id}`)).body.visit.status, 'completed');
      assert.equal((await roomOf(name)).numParticipants, 1);

      for (let i = 0; i < 2; i++) {
        const end = await staff.post(`/api/visits/${visit.id}/moderation/end`, { reason: 'close it' });
        assert.equal(end.status, 200, JSON.stringify(end.body));
        assert.equal(end.body.visit.status, 'completed', 'the visit keeps its final status');
      }
      assert.equal(await roomOf(name), undefined);
      await waitFor(() => p.disconnected, { timeoutMs: 5000, what: 'participant disconnected' });
      const entries = await audit((e) => e.target === `visit:${visit.id}`);
      assert.equal(entries.filter((e) => e.action === 'moderation.end').length, 0);
      assert.ok(entries.some((e) => e.action === 'room.closed' && e.actor === 'staff@parlor.local'));
    });
  });

  describe(`the room check on ${dbName}`, () => {
    let app;
    const participants = [];

    before(async () => { app = await startApp(makeUrl, { reconcileMs: 300 }); });

    after(async () => {
      for (const p of participants) await p.leave();
      assert.equal(await app?.dev.stop(), 0);
    });

    test('closes rogue rooms with people in them and audits it; leaves a live visit alone', async () => {
      const { book, roomOf, rooms, resident, visitor, staff, dev, audit } = app;
      const live = await book();
      const rj = (await resident.post('/api/calls/join', { visitId: live.id })).body;
      const inLive = new Participant();
      participants.push(inLive);
      assert.equal(await inLive.connect(rj.url, rj.token), null);
      await waitFor(async () => (await staff.get(`/api/visits/${live.id}`)).body.visit.status === 'live',
        { timeoutMs: 5000, what: 'visit live' });

      // A visit requested for tomorrow (not live, no window) and a room no visit knows, both
      // made by hand through RoomService, each with someone in it.
      const day = new Date(Date.now() + 86400e3);
      day.setUTCHours(12, 0, 0, 0);
      const requested = await visitor.post('/api/visits', { residentId: 1, start: day.toISOString(), durationMinutes: 30 });
      assert.equal(requested.status, 201, JSON.stringify(requested.body));
      const rogueNames = [`visit-${requested.body.visit.id}`, `rogue-${randomBytes(3).toString('hex')}`];
      const rogues = [];
      for (const name of rogueNames) {
        await rooms.createRoom({ name });
        const p = new Participant();
        participants.push(p);
        // The check may close the room as soon as the participant is in, even before connect()
        // resolves: only the closing and its audit entry (with the head count) are asserted.
        rogues.push(p.connect(dev.mediaUrl, await adminToken('visitor-1', name)));
      }
      await Promise.all(rogues);
      for (const name of rogueNames) {
        await waitFor(async () => !(await roomOf(name)), { timeoutMs: 8000, what: `${name} closed by the check` });
      }
      const closed = await audit((e) => e.action === 'room.closed' && e.actor === 'system');
      const requestedEntry = closed.find((e) => e.target === `visit:${requested.body.visit.id}`);
      assert.ok(requestedEntry, JSON.stringify(closed));
      assert.equal(requestedEntry.details.status, 'requested');
      assert.ok(requestedEntry.details.participants >= 1, JSON.stringify(requestedEntry));
      const unknownEntry = closed.find((e) => e.target === `room:${rogueNames[1]}`);
      assert.ok(unknownEntry, JSON.stringify(closed));
      assert.equal(unknownEntry.details.status, 'unknown');
      assert.equal((await staff.get(`/api/visits/${requested.body.visit.id}`)).body.visit.status, 'requested');

      // The live visit's room was seen by the same checks and left alone.
      assert.ok(await roomOf(`visit-${live.id}`));
      assert.ok(!inLive.disconnected);
      assert.ok(!closed.some((e) => e.target === `visit:${live.id}`));
      assert.equal((await staff.get('/api/live')).body.visits.filter((v) => v.id === live.id).length, 1);
    });
  });
}

after(async () => { await dispose(); });
