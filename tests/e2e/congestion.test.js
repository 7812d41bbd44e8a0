// Downstream congestion control with real browsers (issue 11): the subscriber's downlink is
// capped with a tbf qdisc, and the server must notice (its estimate from the browser's
// transport-cc feedback) and forward a lower simulcast layer, with video still playing.
//
// Shaping needs a network of our own: the test re-runs itself under `unshare --net` (root), where
// only `lo` exists and nobody else's traffic passes. There an htb root qdisc on lo sends the UDP
// packets whose source port is the server's media port (everything the server forwards) through
// a tbf-limited class; the rest (signaling, what publishers send) is not limited. netem and prio
// are not in this kernel (../shared/notes/toolchain.md §7); htb, tbf and u32 are.
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { waitFor } from '../lib/media.js';
import { startRoomEnvironment, devToken as token } from '../lib/livekit-page.js';

const kMediaPort = 27880;         // inside the private namespace: no one else's ports there (a multiple of 8)
// Below the top layer of Chromium's fake camera; PARLOR_BWE_DOWNLINK_KBIT measures other caps.
const kDownlinkKbit = Number(process.env.PARLOR_BWE_DOWNLINK_KBIT || 600);
const inNamespace = process.env.PARLOR_BWE_NETNS === '1';

if (!inNamespace) {
  const root = process.getuid?.() === 0;
  test('a capped downlink gets a lower layer (run in a private network namespace)',
    { skip: !root && 'needs root for unshare --net and tc' }, () => {
      const r = spawnSync('unshare', ['--net', '--', process.execPath, '--test', '--test-force-exit',
        fileURLToPath(import.meta.url)], {
        // (without NODE_TEST_CONTEXT: the nested runner reports as a top-level one)
        env: { ...process.env, NODE_TEST_CONTEXT: undefined, PARLOR_BWE_NETNS: '1' }, encoding: 'utf8', timeout: 240000,
      });
      const numbers = (r.stdout || '').split('\n').filter((l) => l.includes('[numbers]'));
      for (const l of numbers) console.log(l.replace(/^#\s*/, ''));
      if (r.status !== 0) console.log(r.stdout, r.stderr, r.error);
      assert.equal(r.status, 0, 'the namespaced run passed');
    });
} else {
  const tc = (...args) => execFileSync('tc', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  execFileSync('ip', ['link', 'set', 'lo', 'up']);
  tc('qdisc', 'add', 'dev', 'lo', 'root', 'handle', '1:', 'htb', 'default', '10');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:10', 'htb', 'rate', '10gbit');
  tc('class', 'add', 'dev', 'lo', 'parent', '1:', 'classid', '1:20', 'htb', 'rate', `${kDownlinkKbit}kbit`,
    'ceil', `${kDownlinkKbit}kbit`);
  tc('qdisc', 'add', 'dev', 'lo', 'parent', '1:20', 'handle', '20:', 'tbf', 'rate', `${kDownlinkKbit}kbit`,
    'burst', '10kb', 'latency', '150ms');
  // Every media worker's port (worker i listens on kMediaPort + i; up to 8 here) is capped.
  const capDownlink = () => tc('filter', 'add', 'dev', 'lo', 'parent', '1:', 'protocol', 'ip', 'prio', '1', 'u32',
    'match', 'ip', 'protocol', '17', '0xff', 'match', 'ip', 'sport', String(kMediaPort), '0xfff8', 'flowid', '1:20');
  const liftCap = () => tc('filter', 'del', 'dev', 'lo', 'parent', '1:', 'prio', '1');

  let env;
  after(async () => { await env?.stop(); });
  const modes = [
    { name: 'one peer connection (/rtc/v1)', room: {} },
    { name: 'two peer connections (/rtc, our subscriber offer)', room: { singlePeerConnection: false } },
  ];

  async function metric(name) {
    const text = await (await fetch(`${env.media.httpUrl}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${name} `));
    return line ? Number(line.split(' ')[1]) : undefined;
  }

  for (const mode of modes) test(`a subscriber behind a 600 kbit/s downlink is moved to a lower layer and keeps playing: ${mode.name}`, async () => {
    await env?.stop();  // a server per mode: its metrics start from zero
    capDownlink();
    // Only lo exists here: Chromium gathers loopback candidates only when allowed to.
    env = await startRoomEnvironment(['--dev', '--udp-port', String(kMediaPort)],
      { chromiumArgs: ['--allow-loopback-in-peer-connection'] });
    const room = `capped-${Math.random().toString(36).slice(2, 8)}`;
    const alice = await env.openPage();
    const bob = await env.openPage();
    // Alice publishes and receives nothing (her downlink would share the shaped class).
    await alice.evaluate(([u, t, r]) => window.join(u, t, { room: r, connect: { autoSubscribe: false } }),
      [env.media.url, await token('alice', room), mode.room]);
    await bob.evaluate(([u, t, r]) => window.join(u, t, { room: r }), [env.media.url, await token('bob', room), mode.room]);
    const started = Date.now();
    await waitFor(async () => (await bob.evaluate(() => window.videoProgress()))?.width > 0,
      { timeoutMs: 30000, intervalMs: 200, what: 'bob decoding alice' });
    // Alice's top layer is what an unconstrained subscriber would get.
    await waitFor(async () => {
      const layers = await alice.evaluate(() => window.publisherLayers());
      return layers.length >= 2 && layers.every((l) => l.bytes > 0 && l.width > 0);
    }, { timeoutMs: 20000, intervalMs: 200, what: 'alice sending her simulcast layers' });
    const top = Math.max(...(await alice.evaluate(() => window.publisherLayers())).map((l) => l.width));
    await waitFor(async () => (await metric('parlor_bwe_congested_subscribers')) >= 1,
      { timeoutMs: 30000, intervalMs: 250, what: 'the server seeing congestion on bob\'s downlink' });
    const estimate = await metric('parlor_bwe_estimate_bps_sum');
    // Bob ends up on a layer below the top one, and it plays.
    await waitFor(async () => {
      const v = await bob.evaluate(() => window.videoProgress());
      return v.width > 0 && v.width < top;
    }, { timeoutMs: 30000, intervalMs: 250, what: `bob on a layer below ${top} px wide` });
    const lowered = Date.now() - started;
    const before = await bob.evaluate(() => window.videoProgress());
    await waitFor(async () => (await bob.evaluate(() => window.videoProgress())).frames > before.frames + 30,
      { timeoutMs: 15000, intervalMs: 250, what: 'bob\'s frames advancing on the lower layer' });
    const after = await bob.evaluate(() => window.videoProgress());
    // What bob receives under the cap (video + audio bytes over 3 s of his inbound-rtp stats).
    const inbound = () => bob.evaluate(async () => {
      let bytes = 0;
      for (const pc of window.peerConnections) {
        (await pc.getStats()).forEach((s) => { if (s.type === 'inbound-rtp') bytes += s.bytesReceived; });
      }
      return { bytes, at: performance.now() };
    });
    const b0 = await inbound();
    await waitFor(async () => (await inbound()).at - b0.at >= 3000, { timeoutMs: 10000, intervalMs: 500, what: '3 s of stats' });
    const b1 = await inbound();
    const receivedKbit = Math.round(((b1.bytes - b0.bytes) * 8) / (b1.at - b0.at));
    console.log(`[numbers] ${mode.name}, downlink ${kDownlinkKbit} kbit/s: estimate ${estimate} bit/s at first congestion, `
      + `${await metric('parlor_bwe_estimate_bps_sum')} bit/s at the end; bob at ${after.width}x${after.height} `
      + `(top ${top}) ${lowered} ms after his first frame; pauses ${await metric('parlor_bwe_pauses_total')}, `
      + `resumes ${await metric('parlor_bwe_resumes_total')}; receiving ${receivedKbit} kbit/s`);
    assert.ok(estimate > 0 && estimate < 2_000_000, `estimate ${estimate}`);

    // The cap lifts: probes show the wider path and bob gets the top layer back, with audio
    // flowing throughout and frames advancing on it.
    liftCap();
    const lifted = Date.now();
    const audioBefore = await bob.evaluate(() => window.remoteAudioPackets());
    await waitFor(async () => (await bob.evaluate(() => window.videoProgress())).width === top,
      { timeoutMs: 45000, intervalMs: 250, what: `bob back on the ${top} px layer after the cap lifted` });
    const recovered = Date.now() - lifted;
    const atTop = await bob.evaluate(() => window.videoProgress());
    await waitFor(async () => (await bob.evaluate(() => window.videoProgress())).frames > atTop.frames + 30,
      { timeoutMs: 15000, intervalMs: 250, what: 'bob\'s frames advancing on the top layer' });
    assert.ok(await bob.evaluate(() => window.remoteAudioPackets()) > audioBefore, 'audio kept flowing');
    console.log(`[numbers] ${mode.name}: top layer back ${recovered} ms after the cap lifted; probes `
      + `${await metric('parlor_bwe_probes_total')}, succeeded ${await metric('parlor_bwe_probes_succeeded_total')}, `
      + `padding packets ${await metric('parlor_bwe_probe_padding_packets_total')}`);
    await env.stop();
    env = undefined;
  });
}
