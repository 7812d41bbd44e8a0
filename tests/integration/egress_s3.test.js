// Recordings uploaded to an S3-compatible bucket (issue 12): EgressClient's S3Upload output and
// the facility-wide bucket from the config, against a real S3 server on loopback (s3rver, which
// keeps objects on disk and speaks S3's REST API, multipart included; it does not check Signature
// V4, which the unit tests check against AWS's published examples). A failed upload keeps the
// recording on local storage and says so.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import S3rver from 's3rver';
import { EgressClient, RoomServiceClient, AccessToken, EncodedFileOutput, DirectFileOutput, S3Upload } from 'livekit-server-sdk';
import { dispose } from '@livekit/rtc-node';
import { startRtcPublisher } from '../lib/rtc-publisher.js';
import { startMedia, devKey, devSecret, waitFor } from '../lib/media.js';

let s3;
let s3Url;
let media;
let dir;
let egress;
let rooms;
const kBucket = 'visits';
const kFacilityBucket = 'facility';
const kStatus = { COMPLETE: 3 };

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parlor-egress-s3-'));
  s3 = new S3rver({
    address: '127.0.0.1', port: 0, silent: true, directory: path.join(dir, 's3'),
    configureBuckets: [{ name: kBucket }, { name: kFacilityBucket }],
  });
  const { port } = await s3.run();
  s3Url = `http://127.0.0.1:${port}`;
  const config = [
    'egress:',
    `  recordings_dir: ${path.join(dir, 'recordings')}`,
    '  s3:',
    `    bucket: ${kFacilityBucket}`,
    `    endpoint: ${s3Url}`,
    '    access_key: S3RVER',
    '    secret: S3RVER',
    '    force_path_style: true',
    '',
  ].join('\n');
  media = await startMedia({ args: ['--dev', '--config-body', config] });
  egress = new EgressClient(media.httpUrl, devKey, devSecret);
  rooms = new RoomServiceClient(media.httpUrl, devKey, devSecret);
});

after(async () => {
  await media?.stop();
  await s3?.close();
  await dispose();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function publishTone(identity, roomName) {
  const at = new AccessToken(devKey, devSecret, { identity, ttl: '10m' });
  at.addGrant({ roomJoin: true, room: roomName });
  const pub = await startRtcPublisher(media.url, await at.toJwt(), { video: false });
  const [track] = await waitFor(async () => {
    const p = (await rooms.listParticipants(roomName)).find((x) => x.identity === identity);
    return p && p.tracks.length > 0 ? p.tracks : null;
  }, { timeoutMs: 20000, intervalMs: 100, what: `${identity} publishing` });
  return { track, close: () => pub.close() };
}

async function recordFor(egressId, ms) {
  await waitFor(async () => (await egress.listEgress({ egressId }))[0]?.status === 1 || null,
    { timeoutMs: 20000, intervalMs: 100, what: `${egressId} active` });
  await new Promise((r) => setTimeout(r, ms));  // the length of the recording, not a wait for an event
  await egress.stopEgress(egressId);
  return waitFor(async () => {
    const [info] = await egress.listEgress({ egressId });
    return info && info.status >= kStatus.COMPLETE ? info : null;
  }, { timeoutMs: 60000, intervalMs: 100, what: `${egressId} ended` });
}

async function download(url, to) {
  const response = await fetch(url);
  assert.equal(response.status, 200, `GET ${url}`);
  writeFileSync(to, Buffer.from(await response.arrayBuffer()));
  return to;
}

function audioDuration(file) {
  const out = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries', 'stream=codec_type:format=duration',
    '-of', 'json', file]).toString());
  assert.ok(out.streams.some((s) => s.codec_type === 'audio'), `${file} has an audio stream`);
  execFileSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
  return Number(out.format.duration);
}

test("a track egress with the request's S3Upload lands in that bucket, and the local copy goes", async () => {
  const pub = await publishTone('s3-alice', 's3-room');
  try {
    const output = new DirectFileOutput({
      filepath: 'visit-1/{room_name}-{track_id}',
      output: {
        case: 's3',
        value: new S3Upload({ accessKey: 'S3RVER', secret: 'S3RVER', endpoint: s3Url, bucket: kBucket, forcePathStyle: true, region: 'us-east-1' }),
      },
    });
    const started = await egress.startTrackEgress('s3-room', output, pub.track.sid);
    // Credentials never come back to readers of EgressInfo.
    const echoed = started.request.value.output.value.output.value;
    assert.equal(echoed.bucket, kBucket);
    assert.equal(echoed.secret, '');
    const info = await recordFor(started.egressId, 3000);
    assert.equal(info.status, kStatus.COMPLETE, info.error || info.details);
    assert.equal(info.backupStorageUsed, false);
    const [file] = info.fileResults;
    const key = `visit-1/s3-room-${pub.track.sid}.ogg`;
    assert.equal(file.location, `${s3Url}/${kBucket}/${key}`);
    assert.equal(existsSync(path.join(dir, 'recordings', key)), false, 'the local copy is removed after the upload');
    const copy = await download(file.location, path.join(dir, 'track.ogg'));
    const duration = audioDuration(copy);
    assert.ok(Math.abs(duration - Number(file.duration) / 1e9) < 0.5, `object ${duration} s vs FileInfo ${Number(file.duration) / 1e9} s`);
  } finally {
    await pub.close();
  }
});

test('a room composite with no storage of its own goes to the facility bucket', async () => {
  const pub = await publishTone('s3-bob', 's3-composite');
  try {
    const started = await egress.startRoomCompositeEgress('s3-composite',
      { file: new EncodedFileOutput({ filepath: 'composites/{room_name}.mp4' }) }, { audioOnly: true });
    const info = await recordFor(started.egressId, 3000);
    assert.equal(info.status, kStatus.COMPLETE, info.error || info.details);
    const [file] = info.fileResults;
    assert.equal(file.location, `${s3Url}/${kFacilityBucket}/composites/s3-composite.mp4`);
    const copy = await download(file.location, path.join(dir, 'composite.mp4'));
    assert.ok(audioDuration(copy) > 2, 'the composite holds the recorded audio');
  } finally {
    await pub.close();
  }
});

test('an upload that cannot be made keeps the recording local and says so', async () => {
  // A port nobody listens on: every attempt is refused.
  const closed = await new Promise((resolve) => {
    const srv = createServer();
    srv.listen(0, '127.0.0.1', () => { const { port } = srv.address(); srv.close(() => resolve(port)); });
  });
  const pub = await publishTone('s3-carol', 's3-down');
  try {
    const output = new DirectFileOutput({
      filepath: 'kept/{track_id}',
      output: { case: 's3', value: new S3Upload({ accessKey: 'k', secret: 's', endpoint: `http://127.0.0.1:${closed}`, bucket: kBucket, forcePathStyle: true }) },
    });
    const started = await egress.startTrackEgress('s3-down', output, pub.track.sid);
    const info = await recordFor(started.egressId, 2000);
    assert.equal(info.status, kStatus.COMPLETE);
    assert.equal(info.backupStorageUsed, true);
    assert.match(info.details, /upload to bucket visits failed/);
    const [file] = info.fileResults;
    assert.ok(existsSync(file.location), `the recording stays at ${file.location}`);
    assert.ok(audioDuration(file.location) > 1);
  } finally {
    await pub.close();
  }
});

test('storage Parlor cannot write to is refused up front', async () => {
  const pub = await publishTone('s3-dave', 's3-refused');
  try {
    const bad = new DirectFileOutput({ filepath: 'x', output: { case: 'gcp', value: { credentials: 'c', bucket: 'b' } } });
    await assert.rejects(egress.startTrackEgress('s3-refused', bad, pub.track.sid), /only S3-compatible uploads/);
  } finally {
    await pub.close();
  }
});
