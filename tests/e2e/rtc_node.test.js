// A native participant with the official @livekit/rtc-node joins the same room as a browser
// running livekit-client: the browser renders the node's synthetic video, and the node receives
// the browser's camera frames.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Room, RoomEvent, VideoSource, VideoFrame, VideoBufferType, LocalVideoTrack, TrackPublishOptions,
  TrackSource, TrackKind, VideoStream, dispose,
} from '@livekit/rtc-node';
import { waitFor } from '../lib/media.js';
import { startRoomEnvironment, devToken } from '../lib/livekit-page.js';

let env;
let media;

before(async () => {
  env = await startRoomEnvironment();
  media = env.media;
});

after(async () => {
  await env?.stop();
  await dispose();
});

test('rtc-node publishes a synthetic video a browser renders, and receives the browser camera', async () => {
  const roomName = `native-${Math.random().toString(36).slice(2, 8)}`;
  const node = new Room();
  let browserFrames = 0;
  let firstFrame = null;
  node.on(RoomEvent.TrackSubscribed, async (track) => {
    if (track.kind !== TrackKind.KIND_VIDEO) return;
    for await (const ev of new VideoStream(track)) {
      browserFrames++;
      firstFrame ??= { width: ev.frame.width, height: ev.frame.height };
      if (browserFrames >= 60) break;
    }
  });
  await node.connect(media.url, await devToken('kiosk-node', roomName), { autoSubscribe: true, dynacast: false });

  const width = 320;
  const height = 240;
  const source = new VideoSource(width, height);
  const track = LocalVideoTrack.createVideoTrack('synthetic', source);
  const options = new TrackPublishOptions();
  options.source = TrackSource.SOURCE_CAMERA;
  await node.localParticipant.publishTrack(track, options);
  const rgba = new Uint8Array(width * height * 4);
  let n = 0;
  const timer = setInterval(() => {
    rgba.fill((n++ * 7) % 256);
    source.captureFrame(new VideoFrame(rgba, width, height, VideoBufferType.RGBA));
  }, 33);

  try {
    const page = await env.openPage();
    await page.evaluate(([u, t]) => window.join(u, t), [media.url, await devToken('browser', roomName)]);
    await waitFor(async () => (await page.evaluate(() => window.videoProgress()))?.width > 0,
      { timeoutMs: 20000, intervalMs: 100, what: 'browser rendering the rtc-node video' });
    const seen = await page.evaluate(() => window.videoProgress());
    assert.equal(seen.width, width);
    assert.equal(seen.height, height);
    await waitFor(async () => (await page.evaluate(() => window.videoProgress())).frames > seen.frames + 15,
      { timeoutMs: 10000, intervalMs: 100, what: 'browser frames advancing' });

    await waitFor(() => browserFrames >= 30, { timeoutMs: 20000, intervalMs: 100, what: 'rtc-node receiving browser frames' });
    assert.ok(firstFrame.width > 0 && firstFrame.height > 0);
    await page.evaluate(() => window.room.disconnect());
    await page.context().close();
  } finally {
    clearInterval(timer);
    await node.disconnect();
  }
});
