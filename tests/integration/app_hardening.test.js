// The visitation app against hostile users, over HTTP against the real `parlor dev`, on SQLite
// and on PostgreSQL: privileged visits are staff's, visitors cannot probe for residents or see
// staff e-mails, sign-in is throttled and takes the same work for unknown accounts and runs off
// the HTTP thread, oversized bodies get a readable 413, recordings stream from disk.
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { AccessToken } from 'livekit-server-sdk';
import { startDev, ApiSession } from '../lib/dev.js';
import { devKey, devSecret } from '../lib/media.js';

function postgresUrl() {
  const base = process.env.PARLOR_TEST_PG_URL;
  if (!base) return null;
  const name = `parlor_test_${process.pid}_${Date.now()}`;
  execFileSync('psql', [base, '-q', '-c', `CREATE DATABASE ${name}`]);
  return base.replace(/\/[^/]*$/, `/${name}`);
}

const databases = [['SQLite', () => null]];
if (process.env.PARLOR_TEST_PG_URL) databases.push(['PostgreSQL', postgresUrl]);

/** Whole-response text as the client sees it, headers included, for "never mentions" checks. */
function seen(res) {
  return JSON.stringify(res.body) + JSON.stringify([...res.headers]);
}

/** Peak resident memory of a process, in bytes (Linux). */
function peakRss(pid) {
  const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmHWM:\s+(\d+) kB$/m);
  return Number(m[1]) * 1024;
}

const tomorrowAt = (h) => {
  const d = new Date(Date.now() + 2 * 86400e3);
  d.setUTCHours(h, 0, 0, 0);
  return d.toISOString();
};

for (const [dbName, makeUrl] of databases) {
  describe(`parlor app hardening on ${dbName}`, () => {
    let dev;
    let recordings;
    let staff;
    let visitor;
    let blocked;
    let resident;
    let hidden;  // a resident the signed-in visitors are not approved for

    before(async () => {
      const url = makeUrl();
      recordings = mkdtempSync(path.join(tmpdir(), 'parlor-hard-rec-'));
      const args = ['--recordings-dir', recordings];
      dev = await startDev({ args: url ? [...args, '--database-url', url] : args });
      staff = new ApiSession(dev.appUrl);
      visitor = new ApiSession(dev.appUrl);
      blocked = new ApiSession(dev.appUrl);
      resident = new ApiSession(dev.appUrl);
      assert.equal((await staff.login('staff@parlor.local', 'parlor-staff')).status, 200);
      assert.equal((await visitor.login('visitor@parlor.local', 'parlor-visitor')).status, 200);
      assert.equal((await blocked.login('blocked@parlor.local', 'parlor-blocked')).status, 200);
      assert.equal((await resident.login('resident@parlor.local', 'parlor-resident')).status, 200);
      const made = await staff.post('/api/residents', { name: 'Hilda Hidden', unit: 'Unit 99' });
      assert.equal(made.status, 201);
      hidden = made.body.resident.id;
    });

    after(async () => {
      assert.equal(await dev?.stop(), 0);
      rmSync(recordings, { recursive: true, force: true });
    });

    test('privileged visits are set by staff only: a visitor or resident gets 403', async () => {
      let res = await visitor.post('/api/visits', { residentId: 1, start: tomorrowAt(12), durationMinutes: 30, privileged: true });
      assert.equal(res.status, 403, JSON.stringify(res.body));
      assert.equal(res.body.error.code, 'forbidden');
      res = await resident.post('/api/visits', { residentId: 1, start: tomorrowAt(12), durationMinutes: 30, privileged: true });
      assert.equal(res.status, 403);
      // privileged: false changes nothing and is accepted.
      res = await visitor.post('/api/visits', { residentId: 1, start: tomorrowAt(12), durationMinutes: 30, privileged: false });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      const id = res.body.visit.id;
      assert.equal(res.body.visit.privileged, false);
      // Editing (reschedule) cannot make it privileged either.
      res = await visitor.post(`/api/visits/${id}/reschedule`, { start: tomorrowAt(13), privileged: true });
      assert.equal(res.status, 403);
      assert.equal((await staff.get(`/api/visits/${id}`)).body.visit.privileged, false);
      res = await staff.post('/api/visits', { residentId: 1, visitorIds: [1], start: tomorrowAt(14), durationMinutes: 30, privileged: true });
      assert.equal(res.status, 201, JSON.stringify(res.body));
      assert.equal(res.body.visit.privileged, true);
    });

    test('a visitor cannot tell an unknown resident from one they are not approved for', async () => {
      const book = (s, residentId) => s.post('/api/visits', { residentId, start: tomorrowAt(12), durationMinutes: 30 });
      const unknown = await book(visitor, 987654);
      const forbidden = await book(visitor, hidden);
      assert.equal(unknown.status, 404);
      assert.deepEqual([forbidden.status, forbidden.body], [unknown.status, unknown.body]);
      // The blocked visitor, for a resident that exists and that they are blocked from.
      const blockedOne = await book(blocked, 1);
      assert.deepEqual([blockedOne.status, blockedOne.body], [unknown.status, unknown.body]);

      // Approval requests: one answer whether the resident exists, is new to them, or not.
      const askUnknown = await visitor.post('/api/approvals', { residentId: 987654 });
      const askHidden = await visitor.post('/api/approvals', { residentId: hidden });
      const askAgain = await visitor.post('/api/approvals', { residentId: hidden });
      const askBlocked = await blocked.post('/api/approvals', { residentId: 1 });
      assert.equal(askHidden.status, 202);
      const shape = (r, id) => [r.status, { approval: { ...r.body.approval, residentId: id } }];
      for (const [r, id] of [[askUnknown, 987654], [askAgain, hidden]]) {
        assert.deepEqual(shape(r, 0), shape(askHidden, 0), JSON.stringify(r.body));
        assert.equal(r.body.approval.residentId, id);
      }
      assert.deepEqual(shape(askBlocked, 0), shape(askHidden, 0));
      // Staff see the stored request (only the one for the real resident).
      const pending = (await staff.get('/api/approvals?status=pending')).body.approvals;
      const mine = pending.filter((a) => a.visitorId === 1);
      assert.deepEqual(mine.map((a) => a.residentId), [hidden]);
      assert.equal(mine[0].residentName, 'Hilda Hidden');

      // Nothing a visitor can read names that resident, or any resident they are not approved for.
      const reads = ['/api/auth/me', '/api/residents', '/api/approvals', '/api/approvals?status=pending',
        '/api/visits', '/api/visits/1', '/api/rules', '/api/config'];
      for (const p of reads) {
        const res = await visitor.get(p);
        assert.ok(!seen(res).includes('Hilda'), `${p}: ${seen(res)}`);
      }
      for (const r of [unknown, forbidden, askUnknown, askHidden, askAgain]) assert.ok(!seen(r).includes('Hilda'));
      // The blocked visitor is on the seeded visit but not approved: no resident name anywhere.
      for (const p of reads) {
        const res = await blocked.get(p);
        assert.ok(!seen(res).includes('Rosa'), `${p}: ${seen(res)}`);
        assert.ok(!seen(res).includes('Hilda'), `${p}: ${seen(res)}`);
      }
      const seeded = (await blocked.get('/api/visits/1')).body.visit;
      assert.equal(seeded.residentId, 1);
      assert.equal(seeded.residentName, undefined);
      assert.equal((await visitor.get('/api/visits/1')).body.visit.residentName, 'Rosa Resident');
    });

    test('visitors never see staff e-mail addresses', async () => {
      const vis = await staff.post('/api/visitors', { name: 'Nina New', email: 'nina@x.org', password: 'nina-password' });
      assert.equal(vis.status, 201);
      const nina = new ApiSession(dev.appUrl);
      assert.equal((await nina.login('nina@x.org', 'nina-password')).status, 200);
      assert.equal((await nina.post('/api/approvals', { residentId: 1 })).status, 202);
      const ask = (await staff.get('/api/approvals?status=pending')).body.approvals
        .find((a) => a.visitorId === vis.body.visitor.id);
      const decided = await staff.post(`/api/approvals/${ask.id}/decision`, { status: 'approved', reason: 'ok' });
      assert.equal(decided.body.approval.decidedBy, 'staff@parlor.local');  // staff see who decided
      const booked = await nina.post('/api/visits', { residentId: 1, start: tomorrowAt(15), durationMinutes: 30 });
      assert.equal(booked.status, 201, JSON.stringify(booked.body));
      await staff.post(`/api/visits/${booked.body.visit.id}/schedule`);
      const approvals = await nina.get('/api/approvals');
      assert.equal(approvals.body.approvals.length, 1);
      assert.equal(approvals.body.approvals[0].residentName, 'Rosa Resident');  // approved: named
      for (const p of ['/api/approvals', '/api/visits', `/api/visits/${booked.body.visit.id}`, '/api/residents', '/api/auth/me']) {
        const res = await nina.get(p);
        assert.equal(res.status, 200, p);
        assert.ok(!/@parlor\.local/.test(seen(res)), `${p}: ${seen(res)}`);
      }
      assert.equal((await nina.get(`/api/visits/${booked.body.visit.id}/events`)).status, 403);
      assert.equal((await nina.get('/api/audit')).status, 403);
    });

    test('sign-in is throttled per account with 429 and Retry-After', async () => {
      // The default allows 10 attempts a minute per account; a minute boundary in the middle
      // resets the count once, so 21 attempts always reach the limit.
      const s = new ApiSession(dev.appUrl);
      let limited;
      for (let i = 0; i < 21 && !limited; i++) {
        const res = await s.login('resident@parlor.local', `wrong-${i}`);
        if (res.status === 429) limited = res;
        else assert.equal(res.status, 401);
      }
      assert.ok(limited, 'no 429 after 21 attempts');
      assert.equal(limited.body.error.code, 'too_many_requests');
      const after = Number(limited.headers.get('retry-after'));
      assert.ok(after >= 1 && after <= 60, `Retry-After ${after}`);
      // Other accounts are not affected.
      assert.equal((await new ApiSession(dev.appUrl).login('staff@parlor.local', 'parlor-staff')).status, 200);
    });

    test('an unknown e-mail costs a password check too, so timing does not reveal accounts', async () => {
      const time = async (email) => {
        const t0 = process.hrtime.bigint();
        const res = await new ApiSession(dev.appUrl).login(email, 'not-the-password');
        assert.equal(res.status, 401);
        return Number(process.hrtime.bigint() - t0) / 1e6;
      };
      const known = [];
      const unknown = [];
      for (let i = 0; i < 5; i++) {
        known.push(await time('visitor@parlor.local'));
        unknown.push(await time(`nobody-${i}-${Date.now()}@x.org`));
      }
      const median = (a) => a.sort((x, y) => x - y)[2];
      // Without the dummy hash an unknown account answers in well under a tenth of the time.
      assert.ok(median(unknown) > 0.4 * median(known), `known ${known} ms, unknown ${unknown} ms`);
    });

    test('password hashing runs off the HTTP thread: other requests are served meanwhile', async () => {
      // Sixteen sign-ins queue up on the two workers (each Argon2 check takes tens of ms); a
      // request that needs no worker is answered while most of them are still waiting.
      let done = 0;
      const logins = Array.from({ length: 16 }, (_, i) =>
        new ApiSession(dev.appUrl).login(`busy-${i}-${Date.now()}@x.org`, 'whatever-password')
          .then((r) => { done++; return r; }));
      const healthz = await fetch(`${dev.appUrl}/healthz`);
      const doneAtHealthz = done;
      assert.equal(healthz.status, 200);
      for (const r of await Promise.all(logins)) assert.ok([401, 503].includes(r.status), String(r.status));
      assert.ok(doneAtHealthz < 8, `${doneAtHealthz} of 16 sign-ins finished before /healthz`);
    });

    test("an oversized body gets its 413, readable by Node's fetch, on the app and on Twirp", async () => {
      const big = JSON.stringify({ name: 'x'.repeat(3 << 20) });  // over both servers' limits
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${dev.appUrl}/api/residents`, {
          method: 'POST', body: big, headers: { 'Content-Type': 'application/json', Cookie: staff.cookie, 'X-CSRF-Token': staff.csrf },
        });
        assert.equal(res.status, 413);
        assert.match(await res.text(), /too large/);
      }
      const at = new AccessToken(devKey, devSecret, { ttl: '5m' });
      at.addGrant({ roomList: true, roomAdmin: true });
      const auth = `Bearer ${await at.toJwt()}`;
      for (let i = 0; i < 5; i++) {
        const res = await fetch(`${dev.mediaHttpUrl}/twirp/livekit.RoomService/ListRooms`, {
          method: 'POST', body: big, headers: { 'Content-Type': 'application/json', Authorization: auth },
        });
        assert.equal(res.status, 413);
        await res.arrayBuffer();
      }
      // Both servers keep serving.
      assert.equal((await staff.get('/api/auth/me')).status, 200);
      const ok = await fetch(`${dev.mediaHttpUrl}/twirp/livekit.RoomService/ListRooms`, {
        method: 'POST', body: '{}', headers: { 'Content-Type': 'application/json', Authorization: auth },
      });
      assert.equal(ok.status, 200);
    });

    test('a 50 MB recording streams byte-exact, with ranges, without the server holding it', async (t) => {
      const size = 50 * 1024 * 1024;
      const file = path.join(recordings, 'visit-1-big.mp4');
      // Sparse, with a few random islands so a wrong offset cannot go unnoticed.
      const islands = [0, 4096 * 17 + 5, size / 2 + 3, size - 1000].map((at) => [at, randomBytes(1000)]);
      const fd = openSync(file, 'w');
      for (const [at, bytes] of islands) writeSync(fd, bytes, 0, bytes.length, at);
      closeSync(fd);
      const expected = Buffer.alloc(size);
      for (const [at, bytes] of islands) bytes.copy(expected, at);

      const body = JSON.stringify({ event: 'egress_ended', id: 'EV_big', createdAt: '1',
        egressInfo: { egressId: 'EG_big', roomName: 'visit-1', status: 'EGRESS_COMPLETE',
          fileResults: [{ filename: 'visit-1-big.mp4', size: String(size), duration: '5000000000' }] } });
      const at = new AccessToken(devKey, devSecret, { ttl: '5m' });
      at.sha256 = createHash('sha256').update(body).digest('base64');
      const hook = await fetch(`${dev.appUrl}/webhooks/livekit`, {
        method: 'POST', headers: { Authorization: await at.toJwt(), 'Content-Type': 'application/webhook+json' }, body,
      });
      assert.equal(hook.status, 200);
      const rec = (await staff.get('/api/recordings')).body.recordings.find((r) => r.egressId === 'EG_big');
      const url = `${dev.appUrl}/api/recordings/${rec.id}/download`;
      const get = (headers = {}) => fetch(url, { headers: { Cookie: staff.cookie, ...headers } });

      const peakBefore = peakRss(dev.pid);
      const res = await get();
      assert.equal(res.status, 200);
      assert.equal(res.headers.get('content-length'), String(size));
      const hash = createHash('sha256');
      let received = 0;
      for await (const chunk of res.body) { hash.update(chunk); received += chunk.length; }
      assert.equal(received, size);
      assert.equal(hash.digest('hex'), createHash('sha256').update(expected).digest('hex'));
      const grew = peakRss(dev.pid) - peakBefore;
      t.diagnostic(`peak RSS grew by ${(grew / 1048576).toFixed(1)} MB over a ${size >> 20} MB download`);
      assert.ok(grew < 16 * 1024 * 1024, `peak RSS grew by ${(grew / 1048576).toFixed(1)} MB`);

      // Ranges are kept: an open range is served to the end, a closed one exactly, 416 past it.
      let part = await get({ Range: `bytes=${size / 2}-` });
      assert.equal(part.status, 206);
      assert.equal(part.headers.get('content-range'), `bytes ${size / 2}-${size - 1}/${size}`);
      assert.ok(Buffer.from(await part.arrayBuffer()).equals(expected.subarray(size / 2)));
      part = await get({ Range: 'bytes=69630-70000' });
      assert.equal(part.status, 206);
      assert.ok(Buffer.from(await part.arrayBuffer()).equals(expected.subarray(69630, 70001)));
      part = await get({ Range: `bytes=${size}-` });
      assert.equal(part.status, 416);
      assert.equal(part.headers.get('content-range'), `bytes */${size}`);
      const head = await fetch(url, { method: 'HEAD', headers: { Cookie: staff.cookie } });
      assert.equal(head.status, 200);
      assert.equal(head.headers.get('content-length'), String(size));
    });
  });
}
