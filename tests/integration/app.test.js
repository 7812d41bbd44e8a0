// The visitation app over HTTP, against the real `parlor dev` (media server + app), on SQLite
// and on PostgreSQL (the throwaway cluster scripts/with-services.sh starts).
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TokenVerifier, RoomServiceClient, AccessToken } from 'livekit-server-sdk';
import { startDev, ApiSession } from '../lib/dev.js';
import { devKey, devSecret, waitFor } from '../lib/media.js';

function postgresUrl() {
  const base = process.env.PARLOR_TEST_PG_URL;
  if (!base) return null;
  const name = `parlor_test_${process.pid}_${Date.now()}`;
  execFileSync('psql', [base, '-q', '-c', `CREATE DATABASE ${name}`]);
  return base.replace(/\/[^/]*$/, `/${name}`);
}

const databases = [['SQLite', () => null]];
if (process.env.PARLOR_TEST_PG_URL) {
  databases.push(['PostgreSQL', postgresUrl]);
} else if (process.env.CI) {
  test('PostgreSQL is available in CI', () => {
    assert.fail('PARLOR_TEST_PG_URL is not set: run the tests through scripts/with-services.sh');
  });
}

async function signedWebhook(event) {
  const body = JSON.stringify(event);
  const crypto = await import('node:crypto');
  const at = new AccessToken(devKey, devSecret, { ttl: '5m' });
  at.sha256 = crypto.createHash('sha256').update(body).digest('base64');
  return { body, auth: await at.toJwt() };
}

for (const [dbName, makeUrl] of databases) {
  describe(`parlor app on ${dbName}`, () => {
    let dev;
    let staff;
    let visitor;
    let resident;
    let blocked;
    let outside;     // a folder next to the recordings directory, never to be served
    let recordings;  // --recordings-dir

    before(async () => {
      const url = makeUrl();
      outside = mkdtempSync(path.join(tmpdir(), 'parlor-rec-'));
      recordings = path.join(outside, 'recordings');
      mkdirSync(recordings);
      // Fast jobs so the time-limit test does not wait for the default interval.
      const args = ['--recordings-dir', recordings, '--jobs-interval-ms', '200'];
      dev = await startDev({ args: url ? [...args, '--database-url', url] : args });
      staff = new ApiSession(dev.appUrl);
      visitor = new ApiSession(dev.appUrl);
      resident = new ApiSession(dev.appUrl);
      blocked = new ApiSession(dev.appUrl);
      assert.equal((await staff.login('staff@parlor.local', 'parlor-staff')).status, 200);
      assert.equal((await visitor.login('visitor@parlor.local', 'parlor-visitor')).status, 200);
      assert.equal((await resident.login('resident@parlor.local', 'parlor-resident')).status, 200);
      assert.equal((await blocked.login('blocked@parlor.local', 'parlor-blocked')).status, 200);
    });

    after(async () => {
      assert.equal(await dev?.stop(), 0);
      if (outside) rmSync(outside, { recursive: true, force: true });
    });

    test('sign-in: wrong password is 401, success sets an HttpOnly SameSite cookie', async () => {
      const s = new ApiSession(dev.appUrl);
      const bad = await s.login('staff@parlor.local', 'nope');
      assert.equal(bad.status, 401);
      assert.equal(bad.body.error.code, 'unauthenticated');
      const res = await new ApiSession(dev.appUrl).login('staff@parlor.local', 'parlor-staff');
      assert.match(res.headers.get('set-cookie'), /HttpOnly/);
      assert.match(res.headers.get('set-cookie'), /SameSite=Strict/);
      assert.equal(res.body.user.role, 'staff');
      const me = await staff.get('/api/auth/me');
      assert.equal(me.body.user.email, 'staff@parlor.local');
    });

    test('no session is 401; a logged-out session cannot be reused', async () => {
      assert.equal((await new ApiSession(dev.appUrl).get('/api/visits')).status, 401);
      const s = new ApiSession(dev.appUrl);
      await s.login('staff@parlor.local', 'parlor-staff');
      const cookie = s.cookie;
      assert.equal((await s.post('/api/auth/logout')).status, 200);
      s.cookie = cookie;
      assert.equal((await s.get('/api/visits')).status, 401);
    });

    test('state changes need the CSRF token', async () => {
      const noCsrf = await visitor.request('POST', '/api/calls/join', { visitId: 1 }, { csrf: false });
      assert.equal(noCsrf.status, 403);
      const forged = await visitor.request('POST', '/api/calls/join', { visitId: 1 },
        { csrf: false, headers: { 'X-CSRF-Token': 'forged' } });
      assert.equal(forged.status, 403);
      assert.match(forged.body.error.message, /CSRF/);
    });

    test('an approved visitor gets a LiveKit join token the media server accepts', async () => {
      const res = await visitor.post('/calls/join', { visitId: 1 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.url, dev.mediaUrl);
      assert.equal(res.body.room, 'visit-1');
      assert.equal(res.body.identity, 'visitor-1');
      const claims = await new TokenVerifier(devKey, devSecret).verify(res.body.token);
      assert.equal(claims.sub, 'visitor-1');
      assert.equal(claims.video.roomJoin, true);
      assert.equal(claims.video.room, 'visit-1');
      assert.equal(claims.video.canPublish, true);
      assert.ok(!claims.video.roomAdmin, 'least privilege');
      const validate = await fetch(`${dev.mediaHttpUrl}/rtc/validate?access_token=${res.body.token}`);
      assert.equal(await validate.text(), 'success');
      const viaApi = await resident.post('/api/calls/join', { visitId: 1 });
      assert.equal(viaApi.body.identity, 'resident-1');
    });

    test('a blocked visitor cannot join', async () => {
      const res = await blocked.post('/api/calls/join', { visitId: 1 });
      assert.equal(res.status, 403);
      assert.match(res.body.error.message, /not approved/);
    });

    test('staff monitor with a hidden, subscribe-only token', async () => {
      const res = await staff.post('/api/calls/join', { visitId: 1, monitor: true });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      const claims = await new TokenVerifier(devKey, devSecret).verify(res.body.token);
      assert.equal(claims.video.hidden, true);
      assert.equal(claims.video.canPublish, false);
      assert.equal(claims.video.canSubscribe, true);
      const asParticipant = await staff.post('/api/calls/join', { visitId: 1 });
      assert.equal(asParticipant.status, 403);
    });

    test('roles are enforced', async () => {
      assert.equal((await visitor.get('/api/visitors')).status, 403);
      assert.equal((await visitor.get('/api/audit')).status, 403);
      assert.equal((await resident.post('/api/visits/1/moderation/end', {})).status, 403);
      assert.equal((await visitor.request('PUT', '/api/rules', { bookableStartHour: 0 })).status, 403);
      const mine = await visitor.get('/api/residents');
      assert.deepEqual(mine.body.residents.map((r) => r.name), ['Rosa Resident']);
    });

    test('bad input is a clear 4xx and writes nothing', async () => {
      const before = (await staff.get('/api/residents')).body.residents.length;
      let res = await staff.request('POST', '/api/residents', undefined, { raw: '{"name": ' });
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /not valid JSON/);
      res = await staff.post('/api/residents', { name: 42 });
      assert.equal(res.status, 400);
      assert.match(res.body.error.message, /name must be a string/);
      res = await staff.post('/api/residents', { name: 'x', unit: 'y', email: 'dup@x.org', password: 'short' });
      assert.equal(res.status, 400, 'password too short rolls back the resident too');
      res = await staff.request('POST', '/api/residents', undefined, { raw: JSON.stringify({ name: 'x'.repeat(300 * 1024) }) });
      assert.equal(res.status, 413);
      res = await staff.post('/api/visits', { residentId: 1, visitorIds: [1], start: 'tomorrow', durationMinutes: 30 });
      assert.equal(res.status, 400);
      res = await staff.post('/api/visits', { residentId: 1, visitorIds: [1], start: new Date(Date.now() + 3600e3).toISOString(), durationMinutes: 600 });
      assert.equal(res.status, 422);
      assert.equal((await staff.get('/api/visits/abc')).status, 404);
      assert.equal((await staff.get('/api/residents')).body.residents.length, before);
      const tricky = "O'Brien \"Bob\"; DROP TABLE residents;--";
      res = await staff.post('/api/residents', { name: tricky, unit: '1' });
      assert.equal(res.status, 201);
      const names = (await staff.get('/api/residents')).body.residents.map((r) => r.name);
      assert.ok(names.includes(tricky));
    });

    test('visits: a visitor requests, staff schedules, approval flow', async () => {
      const start = new Date(Date.now() + 2 * 3600e3);
      start.setUTCHours(12, 0, 0, 0);
      if (start < Date.now()) start.setUTCDate(start.getUTCDate() + 1);
      const req = await visitor.post('/api/visits', { residentId: 1, start: start.toISOString(), durationMinutes: 30 });
      assert.equal(req.status, 201, JSON.stringify(req.body));
      assert.equal(req.body.visit.status, 'requested');
      const id = req.body.visit.id;
      assert.equal((await visitor.post(`/api/visits/${id}/schedule`)).status, 403);
      const sch = await staff.post(`/api/visits/${id}/schedule`);
      assert.equal(sch.body.visit.status, 'scheduled');
      const early = await visitor.post('/api/calls/join', { visitId: id });
      assert.equal(early.status, 409, 'outside the join window');
      const cancel = await visitor.post(`/api/visits/${id}/cancel`, { reason: 'sick' });
      assert.equal(cancel.body.visit.status, 'cancelled');
      assert.equal((await staff.post(`/api/visits/${id}/schedule`)).status, 409);
      const blockedReq = await blocked.post('/api/visits', { residentId: 1, start: start.toISOString(), durationMinutes: 30 });
      assert.equal(blockedReq.status, 404, 'a resident one is not approved for looks like no resident');
      const vis = await staff.post('/api/visitors', { name: 'New Person', email: 'new@x.org', password: 'new-person-pw' });
      assert.equal(vis.status, 201);
      const newcomer = new ApiSession(dev.appUrl);
      await newcomer.login('new@x.org', 'new-person-pw');
      const ask = await newcomer.post('/api/approvals', { residentId: 1 });
      assert.equal(ask.status, 202);
      assert.equal(ask.body.approval.status, 'pending');
      const stored = (await staff.get('/api/approvals?status=pending')).body.approvals
        .find((a) => a.visitorId === vis.body.visitor.id && a.residentId === 1);
      const ok = await staff.post(`/api/approvals/${stored.id}/decision`, { status: 'approved' });
      assert.equal(ok.body.approval.status, 'approved');
      assert.equal(ok.body.approval.decidedBy, 'staff@parlor.local');
    });

    test('webhooks: bad signatures are 401; events move the visit live, idempotently', async () => {
      let res = await fetch(`${dev.appUrl}/webhooks/livekit`, {
        method: 'POST', headers: { Authorization: 'forged', 'Content-Type': 'application/webhook+json' }, body: '{}',
      });
      assert.equal(res.status, 401);
      const event = { event: 'participant_joined', id: 'EV_test1', createdAt: '1',
        room: { name: 'visit-1' }, participant: { identity: 'visitor-1' } };
      const signed = await signedWebhook(event);
      const tampered = await fetch(`${dev.appUrl}/webhooks/livekit`, {
        method: 'POST', headers: { Authorization: signed.auth }, body: signed.body.replace('visitor-1', 'visitor-9'),
      });
      assert.equal(tampered.status, 401);
      for (let i = 0; i < 2; i++) {
        res = await fetch(`${dev.appUrl}/webhooks/livekit`, {
          method: 'POST', headers: { Authorization: signed.auth, 'Content-Type': 'application/webhook+json' }, body: signed.body,
        });
        assert.equal(res.status, 200);
      }
      const visit = await staff.get('/api/visits/1');
      assert.equal(visit.body.visit.status, 'live');
      const events = await staff.get('/api/visits/1/events');
      assert.equal(events.body.events.filter((e) => e.type === 'participant_joined').length, 1);
    });

    test('the real media server\'s room_finished completes a live visit', async () => {
      const rooms = new RoomServiceClient(dev.mediaHttpUrl, devKey, devSecret);
      await rooms.createRoom({ name: 'visit-1' });
      await rooms.deleteRoom('visit-1');
      await waitFor(async () => (await staff.get('/api/visits/1')).body.visit.status === 'completed',
        { timeoutMs: 8000, what: 'visit-1 completed' });
      const types = (await staff.get('/api/visits/1/events')).body.events.map((e) => e.type);
      assert.ok(types.includes('room_started') && types.includes('room_finished'), types.join(','));
    });

    test('staff end a visit: it is terminated and its room is gone from the media server', async () => {
      const id = (await staff.post('/api/visits', {
        residentId: 1, visitorIds: [1], start: new Date(Date.now() - 60e3).toISOString(), durationMinutes: 30,
      })).body.visit.id;
      const rooms = new RoomServiceClient(dev.mediaHttpUrl, devKey, devSecret);
      await rooms.createRoom({ name: `visit-${id}` });
      const end = await staff.post(`/api/visits/${id}/moderation/end`, { reason: 'rules broken' });
      assert.equal(end.status, 200, JSON.stringify(end.body));
      assert.equal(end.body.visit.status, 'terminated');
      assert.deepEqual(await rooms.listRooms([`visit-${id}`]), []);
      const mute = await staff.post(`/api/visits/${id}/moderation/mute`, { identity: 'visitor-1', trackSid: 'TR_x', muted: true });
      assert.equal(mute.status, 502, 'moderation errors from the media tier are reported');
      const audit = await staff.get('/api/audit');
      assert.ok(audit.body.entries.some((e) => e.action === 'moderation.end'));
    });

    test('reschedule: the requesting visitor and staff move a visit; rules re-checked; audited', async () => {
      const day = new Date(Date.now() + 2 * 86400e3);
      const at = (h, m = 0) => { const d = new Date(day); d.setUTCHours(h, m, 0, 0); return d.toISOString(); };
      const req = await visitor.post('/api/visits', { residentId: 1, start: at(12), durationMinutes: 30 });
      assert.equal(req.status, 201, JSON.stringify(req.body));
      const id = req.body.visit.id;

      let res = await visitor.post(`/api/visits/${id}/reschedule`, { start: at(13), durationMinutes: 45 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.visit.start, at(13).replace('.000', ''));
      assert.equal(res.body.visit.durationMinutes, 45);
      assert.equal(res.body.visit.status, 'requested');

      // The duration is optional and kept; staff confirm, then a visitor's move needs confirming again.
      assert.equal((await staff.post(`/api/visits/${id}/schedule`)).body.visit.status, 'scheduled');
      res = await visitor.post(`/api/visits/${id}/reschedule`, { start: at(14) });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.visit.durationMinutes, 45);
      assert.equal(res.body.visit.status, 'requested');
      assert.equal((await staff.post(`/api/visits/${id}/schedule`)).body.visit.status, 'scheduled');
      // Staff may move outside opening hours and the visit stays scheduled.
      res = await staff.post(`/api/visits/${id}/reschedule`, { start: at(6), durationMinutes: 30 });
      assert.equal(res.status, 200, JSON.stringify(res.body));
      assert.equal(res.body.visit.status, 'scheduled');

      // The rules apply to the visitor as on booking: 422 with the rule's sentence.
      res = await visitor.post(`/api/visits/${id}/reschedule`, { start: at(3) });
      assert.equal(res.status, 422);
      assert.equal(res.body.error.code, 'unprocessable');
      assert.match(res.body.error.message, /between/);
      res = await visitor.post(`/api/visits/${id}/reschedule`, { start: at(12), durationMinutes: 600 });
      assert.equal(res.status, 422);
      res = await visitor.post(`/api/visits/${id}/reschedule`, { start: new Date(Date.now() - 86400e3).toISOString() });
      assert.equal(res.status, 422);
      assert.match(res.body.error.message, /over/);

      // Bad input: the documented error shape.
      for (const body of [{}, { start: 'tomorrow' }, { start: at(12), durationMinutes: 0 }, { start: at(12), durationMinutes: 'x' }]) {
        res = await visitor.post(`/api/visits/${id}/reschedule`, body);
        assert.equal(res.status, 400, JSON.stringify(body));
        assert.equal(res.body.error.code, 'bad_request');
        assert.equal(typeof res.body.error.message, 'string');
      }
      res = await visitor.request('POST', `/api/visits/${id}/reschedule`, undefined, { raw: '{"start":' });
      assert.equal(res.status, 400);

      // Who may: not the resident, not another visitor, not for a visit staff booked.
      res = await resident.post(`/api/visits/${id}/reschedule`, { start: at(12) });
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'forbidden');
      assert.equal((await blocked.post(`/api/visits/${id}/reschedule`, { start: at(12) })).status, 404);
      const staffBooked = await staff.post('/api/visits', { residentId: 1, visitorIds: [1], start: at(15), durationMinutes: 30 });
      assert.equal(staffBooked.status, 201);
      res = await visitor.post(`/api/visits/${staffBooked.body.visit.id}/reschedule`, { start: at(16) });
      assert.equal(res.status, 403);
      assert.equal((await staff.post('/api/visits/999999/reschedule', { start: at(12) })).status, 404);

      // Only requested and scheduled visits move.
      await staff.post(`/api/visits/${staffBooked.body.visit.id}/cancel`, { reason: 'test' });
      res = await staff.post(`/api/visits/${staffBooked.body.visit.id}/reschedule`, { start: at(16) });
      assert.equal(res.status, 409);
      assert.equal(res.body.error.code, 'conflict');

      const audit = (await staff.get('/api/audit?limit=1000')).body.entries
        .filter((e) => e.action === 'visit.rescheduled' && e.target === `visit:${id}`);
      assert.equal(audit.length, 3);
      const first = audit[audit.length - 1];
      assert.equal(first.actor, 'visitor@parlor.local');
      assert.equal(first.details.fromDurationMinutes, 30);
      assert.equal(first.details.durationMinutes, 45);
    });

    test('recordings: staff download with HTTP Range; nothing outside the recordings directory', async () => {
      // Letters, so no slice of it parses as JSON in ApiSession.
      const content = Array.from({ length: 1000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
      writeFileSync(path.join(recordings, 'visit-1.mp4'), content);
      writeFileSync(path.join(recordings, 'visit-1-audio.ogg'), 'OggS-audio');
      writeFileSync(path.join(outside, 'secret.mp4'), 'secret');
      symlinkSync(path.join(outside, 'secret.mp4'), path.join(recordings, 'link.mp4'));
      const files = { EG_mp4: 'visit-1.mp4', EG_ogg: 'visit-1-audio.ogg', EG_up: '../secret.mp4',
        EG_abs: path.join(outside, 'secret.mp4'), EG_link: 'link.mp4', EG_gone: 'missing.webm' };
      for (const [egressId, filename] of Object.entries(files)) {
        const signed = await signedWebhook({ event: 'egress_ended', id: `EV_${egressId}`, createdAt: '1',
          egressInfo: { egressId, roomName: 'visit-1', status: 'EGRESS_COMPLETE',
            fileResults: [{ filename, size: '1000', duration: '5000000000' }] } });
        const res = await fetch(`${dev.appUrl}/webhooks/livekit`, {
          method: 'POST', headers: { Authorization: signed.auth, 'Content-Type': 'application/webhook+json' }, body: signed.body,
        });
        assert.equal(res.status, 200);
      }
      const list = (await staff.get('/api/recordings?visitId=1')).body.recordings;
      const rec = Object.fromEntries(list.map((r) => [r.egressId, r]));
      assert.equal(rec.EG_mp4.status, 'EGRESS_COMPLETE');
      assert.equal(rec.EG_mp4.sizeBytes, 1000);
      assert.equal(rec.EG_mp4.durationMs, 5000);
      const url = (egressId) => `/api/recordings/${rec[egressId].id}/download`;

      let res = await staff.get(url('EG_mp4'));
      assert.equal(res.status, 200);
      assert.equal(res.body, content);
      assert.equal(res.headers.get('content-type'), 'video/mp4');
      assert.equal(res.headers.get('accept-ranges'), 'bytes');
      assert.equal(res.headers.get('content-length'), '1000');

      const ranged = (range) => staff.request('GET', url('EG_mp4'), undefined, { headers: { Range: range } });
      res = await ranged('bytes=0-99');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 0-99/1000');
      assert.equal(res.body, content.slice(0, 100));
      res = await ranged('bytes=990-');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 990-999/1000');
      assert.equal(res.body, content.slice(990));
      res = await ranged('bytes=-5');
      assert.equal(res.status, 206);
      assert.equal(res.headers.get('content-range'), 'bytes 995-999/1000');
      assert.equal(res.body, content.slice(995));
      res = await ranged('bytes=500-5000');
      assert.equal(res.headers.get('content-range'), 'bytes 500-999/1000');
      for (const bad of ['bytes=1000-', 'bytes=5-2', 'bytes=-0', 'bytes=abc']) {
        res = await ranged(bad);
        assert.equal(res.status, 416, bad);
        assert.equal(res.headers.get('content-range'), 'bytes */1000');
        assert.equal(res.body.error.code, 'range_not_satisfiable');
      }

      res = await staff.get(url('EG_ogg'));
      assert.equal(res.headers.get('content-type'), 'audio/ogg');
      for (const escape of ['EG_up', 'EG_abs', 'EG_link', 'EG_gone']) {
        res = await staff.get(url(escape));
        assert.equal(res.status, 404, escape);
        assert.equal(res.body.error.code, 'not_found');
      }
      assert.equal((await staff.get('/api/recordings/999999/download')).status, 404);
      assert.equal((await staff.get('/api/recordings/abc/download')).status, 404);
      res = await visitor.get(url('EG_mp4'));
      assert.equal(res.status, 403);
      assert.equal(res.body.error.code, 'forbidden');
      assert.equal((await new ApiSession(dev.appUrl).get(url('EG_mp4'))).status, 401);
      const audit = (await staff.get('/api/audit')).body.entries;
      assert.ok(audit.some((e) => e.action === 'recording.download' && e.target === `recording:${rec.EG_mp4.id}`));
    });

    test('time limits: a 2-minute warning, the end at the limit, and a visit nobody joined is missed', async () => {
      // Staff may book visits that started in the past: these end a few seconds from now.
      const endingSoon = (seconds) => new Date(Date.now() - 30 * 60e3 + seconds * 1000).toISOString();
      const live = await staff.post('/api/visits', { residentId: 1, visitorIds: [1], start: endingSoon(6), durationMinutes: 30 });
      const idle = await staff.post('/api/visits', { residentId: 1, visitorIds: [1], start: endingSoon(3), durationMinutes: 30 });
      assert.equal(live.status, 201, JSON.stringify(live.body));
      assert.equal(idle.status, 201, JSON.stringify(idle.body));
      const liveId = live.body.visit.id;
      const idleId = idle.body.visit.id;
      const room = `visit-${liveId}`;
      const rooms = new RoomServiceClient(dev.mediaHttpUrl, devKey, devSecret);
      await rooms.createRoom({ name: room });
      const signed = await signedWebhook({ event: 'participant_joined', id: `EV_join_${liveId}`, createdAt: '1',
        room: { name: room }, participant: { identity: 'visitor-1' } });
      await fetch(`${dev.appUrl}/webhooks/livekit`, {
        method: 'POST', headers: { Authorization: signed.auth, 'Content-Type': 'application/webhook+json' }, body: signed.body,
      });
      assert.equal((await staff.get(`/api/visits/${liveId}`)).body.visit.status, 'live');

      const auditFor = async (id, action) => (await staff.get('/api/audit?limit=1000')).body.entries
        .find((e) => e.target === `visit:${id}` && e.action === action);
      // The warning went to the room as a SendData (the audit entry is written once it was accepted).
      const warning = await waitFor(() => auditFor(liveId, 'visit.warning'), { timeoutMs: 5000, what: 'visit.warning' });
      assert.equal(warning.actor, 'system');
      assert.ok(warning.details.secondsLeft > 0 && warning.details.secondsLeft <= 120, JSON.stringify(warning.details));
      assert.equal(warning.details.endsAt, live.body.visit.end);
      assert.equal((await staff.get(`/api/visits/${liveId}`)).body.visit.status, 'live');

      const idleDone = await waitFor(async () => {
        const v = (await staff.get(`/api/visits/${idleId}`)).body.visit;
        return v.status === 'missed' && v;
      }, { timeoutMs: 15000, what: 'the idle visit missed' });
      assert.equal(idleDone.endedReason, 'nobody joined');
      const liveDone = await waitFor(async () => {
        const v = (await staff.get(`/api/visits/${liveId}`)).body.visit;
        return v.status === 'completed' && v;
      }, { timeoutMs: 15000, what: 'the live visit completed' });
      assert.equal(liveDone.endedReason, 'time limit reached');
      assert.equal((await auditFor(liveId, 'visit.completed')).actor, 'system');
      assert.equal((await auditFor(idleId, 'visit.missed')).details.reason, 'nobody joined');
      assert.equal(await auditFor(idleId, 'visit.warning'), undefined, 'no warning for a visit that never went live');
      // The room was closed on the media server, which reports it back as room_finished.
      await waitFor(async () => (await rooms.listRooms([room])).length === 0, { timeoutMs: 5000, what: 'room closed' });
      await waitFor(async () => (await staff.get(`/api/visits/${liveId}/events`)).body.events
        .some((e) => e.type === 'room_finished'), { timeoutMs: 5000, what: 'room_finished event' });
      const join = await visitor.post('/api/calls/join', { visitId: liveId });
      assert.equal(join.status, 409, 'a completed visit cannot be joined');
    });
  });
}
