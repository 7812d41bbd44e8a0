// Server-side recording through LiveKit's Egress API (issue 12), driven by livekit-server-sdk's
// EgressClient against the real binary while @livekit/rtc-node participants publish: a track
// egress and a room composite record a call and stop; the files are checked with ffprobe and
// decoded in full with ffmpeg; the signed egress webhooks arrive in order; and the errors a
// caller can meet are LiveKit's.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  EgressClient, RoomServiceClient, WebhookReceiver, AccessToken, EncodedFileOutput, DirectFileOutput,
  StreamOutput, StreamProtocol,
} from 'livekit-server-sdk';
import { dispose } from '@livekit/rtc-node';
import { startRtcPublisher } from '../lib/rtc-publisher.js';
import { startMedia, devKey, devSecret, waitFor } from '../lib/media.js';
import { startWebhookSink } from '../lib/webhook-sink.js';

let media;
let sink;
let dir;
let egress;
let rooms;
const receiver = new WebhookReceiver(devKey, devSecret);

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parlor-egress-'));
  sink = await startWebhookSink();
  media = await startMedia({
    args: ['--dev', '--webhook', sink.url, '--config-body', `egress:\n  recordings_dir: ${dir}\n  max_active: 4\n`],
  });
  egress = new EgressClient(media.httpUrl, devKey, devSecret);
  rooms = new RoomServiceClient(media.httpUrl, devKey, devSecret);
});

after(async () => {
  await media?.stop();
  await sink?.close();
  await dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function token(identity, room) {
  const at = new AccessToken(devKey, devSecret, { identity, ttl: '10m' });
  at.addGrant({ roomJoin: true, room });
  return at.toJwt();
}

async function publisher(identity, roomName, options) {
  return startRtcPublisher(media.url, await token(identity, roomName), options);
}

// The server's view of a participant's tracks, once it has them all.
async function publishedTracks(roomName, identity, count) {
  return waitFor(async () => {
    const p = (await rooms.listParticipants(roomName)).find((x) => x.identity === identity);
    return p && p.tracks.length >= count ? p.tracks : null;
  }, { timeoutMs: 20000, intervalMs: 100, what: `${identity} publishing ${count} tracks` });
}

// Verified webhook events (signature and body hash checked) for one egress.
async function egressEvents(egressId) {
  const out = [];
  for (const r of sink.received) {
    const event = await receiver.receive(r.body, r.headers.authorization);
    if (event.egressInfo?.egressId === egressId) out.push(event);
  }
  return out;
}

async function waitEnded(egressId, timeoutMs = 60000) {
  return waitFor(async () => (await egressEvents(egressId)).find((e) => e.event === 'egress_ended'),
    { timeoutMs, intervalMs: 100, what: `egress_ended for ${egressId}` });
}

async function waitStatus(egressId, status, timeoutMs = 20000) {
  return waitFor(async () => {
    const [info] = await egress.listEgress({ egressId });
    return info?.status === status ? info : null;
  }, { timeoutMs, intervalMs: 100, what: `${egressId} reaching status ${status}` });
}

function probe(file) {
  const out = execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type,codec_name:format=duration',
    '-of', 'json', file]);
  return JSON.parse(out.toString());
}

function decodesCleanly(file) {
  // -xerror: any decoding error fails; every frame of every stream is decoded.
  execFileSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
}

const kStatus = { STARTING: 0, ACTIVE: 1, ENDING: 2, COMPLETE: 3, FAILED: 4, ABORTED: 5 };

test('a track egress and a room composite record a call, stop, and leave playable files', async () => {
  const roomName = `visit-${Math.random().toString(36).slice(2, 8)}`;
  await rooms.createRoom({ name: roomName });
  const alice = await publisher('alice', roomName);
  const bob = await publisher('bob', roomName, { video: false });
  try {
    const tracks = await publishedTracks(roomName, 'alice', 2);
    await publishedTracks(roomName, 'bob', 1);
    const videoTrack = tracks.find((t) => t.type === 1);
    assert.ok(videoTrack, 'alice publishes video');

    const track = await egress.startTrackEgress(roomName,
      new DirectFileOutput({ filepath: 'tracks/{room_name}-{publisher_identity}-{track_type}' }), videoTrack.sid);
    assert.match(track.egressId, /^EG_[A-Za-z0-9]{12}$/);
    assert.equal(track.status, kStatus.STARTING);
    assert.equal(track.roomName, roomName);

    const started = Date.now();
    const composite = await egress.startRoomCompositeEgress(roomName,
      { file: new EncodedFileOutput({ filepath: 'composite/{room_name}.mp4' }) });
    assert.equal(composite.status, kStatus.STARTING);
    const activeAt = (await waitStatus(composite.egressId, kStatus.ACTIVE)).startedAt;
    await waitStatus(track.egressId, kStatus.ACTIVE);
    assert.ok(Number(activeAt) > 0, 'started_at in Unix ns');

    // Both are listed as active for the room; the filters apply.
    const active = await egress.listEgress({ roomName, active: true });
    assert.deepEqual(new Set(active.map((e) => e.egressId)), new Set([track.egressId, composite.egressId]));
    assert.equal((await egress.listEgress({ roomName: 'no-such-room' })).length, 0);

    // UpdateLayout is stored for the composite.
    const relaid = await egress.updateLayout(composite.egressId, 'grid');
    assert.equal(relaid.egressId, composite.egressId);

    // Record about ten seconds of the call: the recording's length is what is measured.
    await new Promise((r) => setTimeout(r, Math.max(0, 10000 - (Date.now() - started))));
    const stopAt = Date.now();
    const stopping = await egress.stopEgress(composite.egressId);
    assert.equal(stopping.status, kStatus.ENDING);
    await egress.stopEgress(track.egressId);
    const recordedSeconds = (stopAt - started) / 1000;

    const trackEnd = await waitEnded(track.egressId);
    const compositeEnd = await waitEnded(composite.egressId, 120000);
    for (const [end, ext] of [[trackEnd, '.webm'], [compositeEnd, '.mp4']]) {
      const info = end.egressInfo;
      assert.equal(info.status, kStatus.COMPLETE, `ended COMPLETE: ${info.error}`);
      assert.equal(end.room?.name, roomName);
      const file = info.fileResults[0];
      assert.ok(path.isAbsolute(file.location) && file.location.startsWith(dir + path.sep), file.location);
      assert.ok(file.location.endsWith(ext), file.location);
      assert.equal(path.join(dir, file.filename), file.location, 'filename is relative to recordings_dir');
      assert.equal(Number(file.size), statSync(file.location).size);
      assert.ok(Number(file.duration) > 0);
      assert.ok(Number(info.endedAt) >= Number(info.startedAt) && Number(info.startedAt) > 0);
      assert.ok(!existsSync(`${file.location}.part`), 'no half-written file left');
      decodesCleanly(file.location);
      // The webhooks tell the whole story, in order, each signed.
      const events = (await egressEvents(info.egressId)).map((e) => `${e.event}:${e.egressInfo.status}`);
      assert.equal(events[0], `egress_started:${kStatus.STARTING}`);
      assert.ok(events.includes(`egress_updated:${kStatus.ACTIVE}`), events.join(' '));
      assert.ok(events.includes(`egress_updated:${kStatus.ENDING}`), events.join(' '));
      assert.equal(events.at(-1), `egress_ended:${kStatus.COMPLETE}`);
    }
    assert.match(trackEnd.egressInfo.fileResults[0].filename, new RegExp(`^tracks/${roomName}-alice-video\\.webm$`));
    const t = probe(trackEnd.egressInfo.fileResults[0].location);
    assert.deepEqual(t.streams.map((s) => s.codec_type), ['video']);

    const c = probe(compositeEnd.egressInfo.fileResults[0].location);
    const kinds = c.streams.map((s) => s.codec_type).sort();
    assert.deepEqual(kinds, ['audio', 'video'], 'the composite has one video and one audio stream');
    const duration = Number(c.format.duration);
    console.log(`composite: ${duration.toFixed(2)} s for ${recordedSeconds.toFixed(2)} s recorded, ` +
      `${compositeEnd.egressInfo.fileResults[0].size} bytes`);
    assert.ok(Math.abs(duration - recordedSeconds) <= 1.5, `composite lasts ${duration} s, recorded ${recordedSeconds} s`);
    // The intermediates are gone once the composite is complete.
    assert.ok(!existsSync(path.join(dir, '.egress-work', composite.egressId)));
    assert.equal((await egress.listEgress({ roomName, active: true })).length, 0);
  } finally {
    await alice.close();
    await bob.close();
  }
});

test('errors: grants, unknown egress and tracks, paths that leave the directory, refused outputs', async () => {
  const roomName = `errors-${Math.random().toString(36).slice(2, 8)}`;
  await rooms.createRoom({ name: roomName });
  const rejects = (p, code, msg) => assert.rejects(p, (e) => {
    assert.equal(e.code, code, `${e.code}: ${e.message}`);
    if (msg) assert.match(e.message, msg);
    return true;
  });

  // A token without roomRecord: LiveKit's answer to a missing grant.
  const at = new AccessToken(devKey, devSecret, { ttl: '1m' });
  at.addGrant({ roomAdmin: true, room: roomName });
  const res = await fetch(`${media.httpUrl}/twirp/livekit.Egress/ListEgress`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${await at.toJwt()}` },
    body: '{}',
  });
  assert.equal(res.status, 401);
  assert.deepEqual(await res.json(), { code: 'unauthenticated', msg: 'permissions denied' });

  await rejects(egress.stopEgress('EG_doesnotexist'), 'not_found', /egress does not exist/);
  await rejects(egress.startTrackEgress(roomName, new DirectFileOutput({ filepath: 'x' }), 'TR_nope'), 'not_found');
  await rejects(egress.startRoomCompositeEgress('no-such-room', { file: new EncodedFileOutput({ filepath: 'x.mp4' }) }),
    'not_found', /requested room does not exist/);
  for (const filepath of ['../outside.mp4', '/etc/outside.mp4', 'a/../../outside.mp4']) {
    await rejects(egress.startRoomCompositeEgress(roomName, { file: new EncodedFileOutput({ filepath }) }),
      'invalid_argument', /recordings directory|leaves/);
  }
  await rejects(egress.startRoomCompositeEgress(roomName,
    { stream: new StreamOutput({ protocol: StreamProtocol.RTMP, urls: ['rtmp://example/live'] }) }), 'unimplemented', /stream/);
  await rejects(egress.startWebEgress('https://example.com', { file: new EncodedFileOutput({ filepath: 'w.mp4' }) }),
    'unimplemented');
  await rejects(egress.updateStream('EG_x', ['rtmp://example/live']), 'unimplemented');

  // A privileged visit: the app marks its room, and no egress may name it.
  const privileged = `privileged-${Math.random().toString(36).slice(2, 8)}`;
  await rooms.createRoom({ name: privileged, metadata: JSON.stringify({ recording: 'forbidden' }) });
  await rejects(egress.startRoomCompositeEgress(privileged, { file: new EncodedFileOutput({ filepath: 'p.mp4' }) }),
    'failed_precondition', /recording is not allowed in this room/);

  // Binary protobuf Twirp works too (an empty ListEgressRequest).
  const rec = new AccessToken(devKey, devSecret, { ttl: '1m' });
  rec.addGrant({ roomRecord: true });
  const pb = await fetch(`${media.httpUrl}/twirp/livekit.Egress/ListEgress`, {
    method: 'POST',
    headers: { 'content-type': 'application/protobuf', authorization: `Bearer ${await rec.toJwt()}` },
    body: new Uint8Array(0),
  });
  assert.equal(pb.status, 200);
  assert.equal(pb.headers.get('content-type'), 'application/protobuf');
});

test('an unwritable place fails the egress with a clear error and the call goes on', async () => {
  const roomName = `blocked-${Math.random().toString(36).slice(2, 8)}`;
  await rooms.createRoom({ name: roomName });
  // A file where the egress needs a directory: nothing can be created there, even as root.
  writeFileSync(path.join(dir, 'blocked'), 'not a directory');
  const alice = await publisher('alice', roomName, { video: false });
  try {
    const [audio] = await publishedTracks(roomName, 'alice', 1);
    const failing = await egress.startTrackEgress(roomName, new DirectFileOutput({ filepath: 'blocked/x' }), audio.sid);
    const end = await waitEnded(failing.egressId);
    assert.equal(end.egressInfo.status, kStatus.FAILED);
    assert.match(end.egressInfo.error, /blocked/);
    // The call is untouched: the track is still published and can be recorded elsewhere.
    const [still] = await publishedTracks(roomName, 'alice', 1);
    assert.equal(still.sid, audio.sid);
    const ok = await egress.startTrackEgress(roomName, new DirectFileOutput({ filepath: 'fine/' }), audio.sid);
    await waitStatus(ok.egressId, kStatus.ACTIVE);
    await egress.stopEgress(ok.egressId);
    const done = await waitEnded(ok.egressId);
    assert.equal(done.egressInfo.status, kStatus.COMPLETE, done.egressInfo.error);
    assert.match(done.egressInfo.fileResults[0].filename, /^fine\/.+\.ogg$/);
    decodesCleanly(done.egressInfo.fileResults[0].location);
  } finally {
    await alice.close();
  }
});

test('a track egress ends when its publisher leaves; a room composite ends with its room', async () => {
  const roomName = `leave-${Math.random().toString(36).slice(2, 8)}`;
  await rooms.createRoom({ name: roomName });
  const alice = await publisher('alice', roomName, { video: false });
  const [audio] = await publishedTracks(roomName, 'alice', 1);
  const track = await egress.startTrackEgress(roomName, new DirectFileOutput({ filepath: '' }), audio.sid);
  const composite = await egress.startRoomCompositeEgress(roomName,
    { file: new EncodedFileOutput({ filepath: 'rooms/' }) }, { audioOnly: true });
  await waitStatus(track.egressId, kStatus.ACTIVE);
  await waitStatus(composite.egressId, kStatus.ACTIVE);
  // A participant published later is recorded by the composite too.
  const bob = await publisher('bob', roomName, { video: false });
  await publishedTracks(roomName, 'bob', 1);
  await alice.close();
  const trackEnd = await waitEnded(track.egressId);
  assert.equal(trackEnd.egressInfo.status, kStatus.COMPLETE, trackEnd.egressInfo.error);
  assert.match(trackEnd.egressInfo.fileResults[0].filename, new RegExp(`^${roomName}-${audio.sid}-.+\\.ogg$`));
  await bob.close();
  await rooms.deleteRoom(roomName);
  const compositeEnd = await waitEnded(composite.egressId, 120000);
  assert.equal(compositeEnd.egressInfo.status, kStatus.COMPLETE, compositeEnd.egressInfo.error);
  const c = probe(compositeEnd.egressInfo.fileResults[0].location);
  assert.deepEqual(c.streams.map((s) => s.codec_type), ['audio']);
  decodesCleanly(compositeEnd.egressInfo.fileResults[0].location);
});
