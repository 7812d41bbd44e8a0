// A livekit-client participant without an E2EE key, on the page served by livekit-page.js: it
// joins a room, subscribes to everything, publishes nothing, attaches every remote video to a
// <video> element, and reports what Chromium received and decoded per remote video track.
import { waitFor } from './media.js';

/** Joins `url` with `token` in `page` (already on the livekit-page site). */
export async function joinKeyless(page, url, token) {
  await page.evaluate(async ({ url, token }) => {
    const { Room, RoomEvent } = window.LivekitClient;
    const room = new Room();
    window.keyless = { room, videos: [] };
    room.on(RoomEvent.TrackSubscribed, (track, pub, participant) => {
      if (track.kind !== 'video') return;
      const el = track.attach();
      el.muted = true;
      el.dataset.identity = participant.identity;
      document.getElementById('videos').appendChild(el);
      window.keyless.videos.push({ identity: participant.identity, track, el });
    });
    // A generous timeout: this machine also runs the sanitizer build and two encoding pages.
    await room.connect(url, token, { autoSubscribe: true, peerConnectionTimeout: 45000 });
  }, { url, token });
}

/**
 * Per remote video track: what the receiver's inbound-rtp stats say (packets, bytes, frames
 * received, decoded, dropped) and what the <video> element shows. Waits until at least
 * `minVideoTracks` tracks have each received `minBytesPerTrack` bytes.
 */
export async function keylessPeerStats(page, { minVideoTracks = 1, minBytesPerTrack = 100_000, timeoutMs = 30000 } = {}) {
  const read = () => page.evaluate(async () => {
    const out = [];
    for (const v of window.keyless.videos) {
      const stats = await v.track.receiver?.getStats();
      const s = { identity: v.identity, packetsReceived: 0, bytesReceived: 0, framesReceived: 0, framesDecoded: 0,
        keyFramesDecoded: 0, framesDropped: 0, videoWidth: v.el.videoWidth, presented: v.el.getVideoPlaybackQuality().totalVideoFrames };
      stats?.forEach((r) => {
        if (r.type !== 'inbound-rtp') return;
        s.packetsReceived += r.packetsReceived ?? 0;
        s.bytesReceived += r.bytesReceived ?? 0;
        s.framesReceived += r.framesReceived ?? 0;
        s.framesDecoded += r.framesDecoded ?? 0;
        s.keyFramesDecoded += r.keyFramesDecoded ?? 0;
        s.framesDropped += r.framesDropped ?? 0;
      });
      out.push(s);
    }
    return out;
  });
  return waitFor(async () => {
    const s = await read();
    return s.length >= minVideoTracks && s.every((x) => x.bytesReceived >= minBytesPerTrack) ? s : null;
  }, { timeoutMs, intervalMs: 200, what: `${minVideoTracks} remote video tracks with ${minBytesPerTrack} bytes each` });
}
