// Downstream congestion control (issue 11) with a real client: @livekit/rtc-node (libwebrtc)
// subscribes to another participant's video; the packets we forward carry the transport-wide
// sequence number it negotiated, so its libwebrtc sends transport-cc feedback that our per-
// subscriber estimator reads (counted in /metrics), while the video still plays. With
// rtc.congestion_control.enabled false nothing is stamped and no feedback comes back.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Room, RoomEvent, VideoSource, VideoFrame, VideoBufferType, LocalVideoTrack, TrackPublishOptions,
  TrackSource, TrackKind, VideoStream, dispose,
} from '@livekit/rtc-node';
import { startMedia, devKey, devSecret, waitFor } from '../lib/media.js';
import { devToken } from '../lib/livekit-page.js';

const servers = [];
const rooms = [];
after(async () => {
  for (const r of rooms) await r.disconnect().catch(() => {});
  for (const s of servers) assert.equal(await s.stop(), 0, 'server exits cleanly');
  await dispose();
});

async function start(congestion = '') {
  const media = await startMedia({
    config: `development: true\nkeys:\n  ${devKey}: ${devSecret}\n${congestion}`,
  });
  servers.push(media);
  return media;
}

async function metric(media, name) {
  const text = await (await fetch(`${media.httpUrl}/metrics`)).text();
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  return line ? Number(line.split(' ')[1]) : undefined;
}

// A publisher of synthetic 320x240 video and a subscriber counting the frames it decodes.
async function call(media) {
  const roomName = `bwe-${Math.random().toString(36).slice(2, 8)}`;
  const subscriber = new Room();
  rooms.push(subscriber);
  let frames = 0;
  subscriber.on(RoomEvent.TrackSubscribed, async (track) => {
    if (track.kind !== TrackKind.KIND_VIDEO) return;
    for await (const ev of new VideoStream(track)) {
      if (ev.frame.width > 0) frames++;
    }
  });
  await subscriber.connect(media.url, await devToken('viewer', roomName), { autoSubscribe: true, dynacast: false });
  const publisher = new Room();
  rooms.push(publisher);
  await publisher.connect(media.url, await devToken('camera', roomName), { autoSubscribe: false, dynacast: false });
  const source = new VideoSource(320, 240);
  const track = LocalVideoTrack.createVideoTrack('synthetic', source);
  const options = new TrackPublishOptions();
  options.source = TrackSource.SOURCE_CAMERA;
  await publisher.localParticipant.publishTrack(track, options);
  const rgba = new Uint8Array(320 * 240 * 4);
  let n = 0;
  const timer = setInterval(() => {
    rgba.fill((n++ * 7) % 256);
    source.captureFrame(new VideoFrame(rgba, 320, 240, VideoBufferType.RGBA));
  }, 33);
  return {
    frames: () => frames,
    async stop() {
      clearInterval(timer);
      await publisher.disconnect();
      await subscriber.disconnect();
    },
  };
}

test('a libwebrtc subscriber sends transport-cc feedback on what we forward, and the video plays', async () => {
  const media = await start();
  assert.equal(await metric(media, 'parlor_bwe_feedbacks_total'), 0);
  const c = await call(media);
  try {
    await waitFor(() => c.frames() >= 30, { timeoutMs: 20000, intervalMs: 100, what: 'subscriber decoding frames' });
    await waitFor(async () => (await metric(media, 'parlor_bwe_feedbacks_total')) >= 10,
      { timeoutMs: 10000, intervalMs: 200, what: 'transport-cc feedback from the subscriber' });
    await waitFor(async () => (await metric(media, 'parlor_bwe_subscribers')) >= 1,
      { timeoutMs: 5000, intervalMs: 200, what: 'the subscriber counted as estimated' });
    // A loopback link never congests: nothing is paused.
    assert.equal(await metric(media, 'parlor_bwe_pauses_total'), 0);
  } finally {
    await c.stop();
  }
  await waitFor(async () => (await metric(media, 'parlor_bwe_subscribers')) === 0,
    { timeoutMs: 10000, intervalMs: 200, what: 'the gauge given back when the subscriber leaves' });
});

test('with congestion control disabled, nothing is stamped and no feedback comes back', async () => {
  const media = await start('rtc:\n  congestion_control:\n    enabled: false\n');
  const c = await call(media);
  try {
    await waitFor(() => c.frames() >= 30, { timeoutMs: 20000, intervalMs: 100, what: 'subscriber decoding frames' });
    assert.equal(await metric(media, 'parlor_bwe_feedbacks_total'), 0);
    assert.equal(await metric(media, 'parlor_bwe_subscribers'), 0);
  } finally {
    await c.stop();
  }
});
