// Issue 12 end to end: two livekit-client browsers (Debian's Chromium, fake camera and
// microphone) in a call through `parlor media`; livekit-server-sdk's EgressClient records a room
// composite (MP4) and one browser's camera track for about ten seconds; both files are complete,
// ffprobe finds a video and an audio stream in the composite with the recorded duration, and
// ffmpeg decodes every frame of both. The call goes on while it is recorded.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { EgressClient, RoomServiceClient, WebhookReceiver, EncodedFileOutput, DirectFileOutput } from 'livekit-server-sdk';
import { devKey, devSecret, waitFor } from '../lib/media.js';
import { startRoomEnvironment, expectMediaFlowing, devToken } from '../lib/livekit-page.js';
import { startWebhookSink } from '../lib/webhook-sink.js';

let env;
let sink;
let dir;

before(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'parlor-e2e-egress-'));
  sink = await startWebhookSink();
  env = await startRoomEnvironment(['--dev', '--webhook', sink.url, '--config-body', `egress:\n  recordings_dir: ${dir}\n`]);
});

after(async () => {
  await env?.stop();
  await sink?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const COMPLETE = 3;
const ACTIVE = 1;

test('EgressClient records a two-browser call: a composite MP4 and a camera track', async () => {
  const { media } = env;
  const egress = new EgressClient(media.httpUrl, devKey, devSecret);
  const rooms = new RoomServiceClient(media.httpUrl, devKey, devSecret);
  const receiver = new WebhookReceiver(devKey, devSecret);
  const room = `visit-${Math.random().toString(36).slice(2, 8)}`;
  const alice = await env.openPage();
  const bob = await env.openPage();
  await alice.evaluate(([u, t]) => window.join(u, t), [media.url, await devToken('alice', room)]);
  await bob.evaluate(([u, t]) => window.join(u, t), [media.url, await devToken('bob', room)]);
  await expectMediaFlowing(alice, 'alice');
  await expectMediaFlowing(bob, 'bob');

  const camera = (await rooms.listParticipants(room)).find((p) => p.identity === 'alice').tracks.find((t) => t.type === 1);
  assert.ok(camera, 'alice publishes a camera track');
  const started = Date.now();
  const composite = await egress.startRoomCompositeEgress(room,
    { file: new EncodedFileOutput({ filepath: 'visits/{room_name}-{time}.mp4' }) });
  const track = await egress.startTrackEgress(room, new DirectFileOutput({ filepath: 'tracks/' }), camera.sid);
  for (const id of [composite.egressId, track.egressId]) {
    await waitFor(async () => (await egress.listEgress({ egressId: id }))[0]?.status === ACTIVE,
      { timeoutMs: 20000, intervalMs: 100, what: `${id} active` });
  }
  // Ten seconds of call; the call keeps flowing while it is recorded.
  await new Promise((r) => setTimeout(r, Math.max(0, 10000 - (Date.now() - started))));
  await expectMediaFlowing(bob, 'bob while recorded');
  const recorded = (Date.now() - started) / 1000;
  await egress.stopEgress(composite.egressId);
  await egress.stopEgress(track.egressId);

  const ended = async (id) => waitFor(async () => {
    for (const r of sink.received) {
      const e = await receiver.receive(r.body, r.headers.authorization);
      if (e.event === 'egress_ended' && e.egressInfo.egressId === id) return e.egressInfo;
    }
    return null;
  }, { timeoutMs: 120000, intervalMs: 200, what: `egress_ended for ${id}` });
  const c = await ended(composite.egressId);
  const t = await ended(track.egressId);
  for (const info of [c, t]) {
    assert.equal(info.status, COMPLETE, info.error);
    const file = info.fileResults[0].location;
    assert.ok(file.startsWith(dir) && existsSync(file), file);
    execFileSync('ffmpeg', ['-v', 'error', '-xerror', '-i', file, '-f', 'null', '-'], { stdio: ['ignore', 'ignore', 'pipe'] });
  }
  assert.ok(c.fileResults[0].location.endsWith('.mp4'));
  assert.ok(t.fileResults[0].location.endsWith('.webm') || t.fileResults[0].location.endsWith('.mp4'));
  const probe = JSON.parse(execFileSync('ffprobe', ['-v', 'error', '-show_entries',
    'stream=codec_type:format=duration', '-of', 'json', c.fileResults[0].location]).toString());
  assert.deepEqual(probe.streams.map((s) => s.codec_type).sort(), ['audio', 'video']);
  const duration = Number(probe.format.duration);
  console.log(`composite ${duration.toFixed(2)} s of ${recorded.toFixed(2)} s recorded, ${c.fileResults[0].size} bytes; ` +
    `track ${t.fileResults[0].size} bytes`);
  assert.ok(Math.abs(duration - recorded) <= 1.5, `composite ${duration} s vs recorded ${recorded} s`);
  await alice.context().close();
  await bob.context().close();
});
