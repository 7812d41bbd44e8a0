// Simulcast figures with Chromium and livekit-client (issue 11): the time from a publisher's
// join to all three layers flowing; and, for a subscriber that asks for another layer
// (setVideoQuality LOW/HIGH alternately), the switch latency (request → first frame of the new
// size, from requestVideoFrameCallback) and the longest gap between frames around the switch.
// Usage: node bench/layers.mjs [switches=10]   (PARLOR_BIN picks the binary)
// Prints each switch and a JSON summary. Numbers go in issue notes, not assertions.
import { startRoomEnvironment, expectMediaFlowing, devToken } from '../tests/lib/livekit-page.js';
import { waitFor } from '../tests/lib/media.js';

const switches = Number(process.argv[2] ?? 10);
const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s.length ? s[Math.floor((s.length - 1) / 2)] : null; };

const env = await startRoomEnvironment(['--dev']);
try {
  const room = `bench-layers-${Math.random().toString(36).slice(2, 8)}`;
  const alice = await env.openPage();
  const bob = await env.openPage();
  await alice.evaluate(([u, t]) => window.join(u, t, {}), [env.media.url, await devToken('alice', room)]);
  let allLayersMs;
  await waitFor(async () => {
    const r = await alice.evaluate(async () => ({ layers: await window.publisherLayers(), since: Date.now() - window.state.joinStarted }));
    if (r.layers.length >= 3 && r.layers.every((l) => l.bytes > 0 && l.width > 0)) allLayersMs = r.since;
    return allLayersMs !== undefined;
  }, { timeoutMs: 20000, intervalMs: 50, what: 'all three layers flowing' });
  console.log(`all layers flowing ${allLayersMs} ms after join started`);

  await bob.evaluate(([u, t]) => window.join(u, t, {}), [env.media.url, await devToken('bob', room)]);
  await expectMediaFlowing(bob, 'bob');
  const results = [];
  for (let i = 0; i < switches; i++) {
    const quality = i % 2 === 0 ? 'LOW' : 'HIGH';
    const r = await bob.evaluate(async (q) => {
      const v = window.state.remoteVideo;
      const remote = [...window.room.remoteParticipants.values()][0];
      const pub = remote.getTrackPublications().find((p) => p.kind === 'video');
      const frames = [];
      let recording = true;
      const onFrame = (now, meta) => { frames.push({ t: now, w: meta.width }); if (recording) v.requestVideoFrameCallback(onFrame); };
      v.requestVideoFrameCallback(onFrame);
      await new Promise((r) => setTimeout(r, 500));
      const before = frames.at(-1)?.w ?? v.videoWidth;
      const t0 = performance.now();
      pub.setVideoQuality(LivekitClient.VideoQuality[q]);
      const changed = () => frames.find((f) => f.t > t0 && f.w !== before);
      while (!changed() && performance.now() - t0 < 10000) await new Promise((r) => setTimeout(r, 20));
      const at = changed();
      await new Promise((r) => setTimeout(r, 1000));
      recording = false;
      let gap = 0;
      const end = (at?.t ?? t0) + 1000;
      for (let k = 1; k < frames.length; k++) {
        if (frames[k].t >= t0 && frames[k - 1].t <= end) gap = Math.max(gap, frames[k].t - frames[k - 1].t);
      }
      return { quality: q, from: before, to: at?.w ?? null, latency_ms: at ? Math.round(at.t - t0) : null, longest_gap_ms: Math.round(gap) };
    }, quality);
    results.push(r);
    console.log(`switch ${i + 1}: ${JSON.stringify(r)}`);
  }
  const ok = results.filter((r) => r.latency_ms !== null);
  console.log(JSON.stringify({
    binary: process.env.PARLOR_BIN ?? 'build/test/parlor', all_layers_ms: allLayersMs, switches: results.length,
    switched: ok.length, switch_latency_median_ms: median(ok.map((r) => r.latency_ms)),
    switch_latency_max_ms: ok.length ? Math.max(...ok.map((r) => r.latency_ms)) : null,
    longest_gap_median_ms: median(results.map((r) => r.longest_gap_ms)),
    longest_gap_max_ms: Math.max(...results.map((r) => r.longest_gap_ms)),
  }));
} finally {
  await env.stop();
}
