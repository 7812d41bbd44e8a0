// ICE over TCP (RFC 6544) with livekit-client in Chromium: with UDP to the media port refused
// (policy routing, tests/lib/netblock.js), two browsers still see and hear each other, and the
// ICE pair each browser selected is TCP to the server's passive candidate. The time to connect is
// logged beside the same join over UDP.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMedia, waitFor } from '../lib/media.js';
import { serveLivekitPage, expectMediaFlowing, devToken as token } from '../lib/livekit-page.js';
import { launchChromium } from '../lib/browser.js';
import { blockUdpPort, randomPort } from '../lib/netblock.js';

let site;
let browser;

before(async () => {
  site = await serveLivekitPage();
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await site?.close();
});

/** `parlor media` on fixed UDP and TCP ports (random, retried if taken). */
async function startMediaOnFixedPorts() {
  for (let attempt = 0; ; attempt++) {
    const udp = randomPort();
    const tcp = randomPort();
    try {
      const media = await startMedia({ args: ['--dev', '--udp-port', String(udp), '--tcp-port', String(tcp)] });
      if (media.stdout().includes(`listening tcp=127.0.0.1:${tcp}`)) return { media, udp, tcp };
      await media.stop();
    } catch (e) {
      if (attempt >= 4) throw e;
    }
    if (attempt >= 4) throw new Error('no free UDP/TCP port pair for parlor media');
  }
}

async function openPage() {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  await page.goto(site.url);
  return page;
}


async function call(media, roomOptions = {}) {
  const room = `tcp-${Math.random().toString(36).slice(2, 8)}`;
  const alice = await openPage();
  const bob = await openPage();
  await alice.evaluate(([u, t, c]) => window.join(u, t, { room: c }), [media.url, await token('alice', room), roomOptions]);
  await bob.evaluate(([u, t, c]) => window.join(u, t, { room: c }), [media.url, await token('bob', room), roomOptions]);
  await expectMediaFlowing(alice, 'alice');
  await expectMediaFlowing(bob, 'bob');
  const connectedMs = [await alice.evaluate(() => window.state.connectedMs), await bob.evaluate(() => window.state.connectedMs)];
  return { alice, bob, connectedMs };
}

for (const mode of [
  { name: 'single peer connection', room: {} },
  { name: 'two peer connections', room: { singlePeerConnection: false } },
]) {
  test(`UDP refused: the call connects over ICE-TCP (${mode.name})`, async () => {
    const { media, udp, tcp } = await startMediaOnFixedPorts();
    const unblock = blockUdpPort(udp);
    try {
      const { alice, bob, connectedMs } = await call(media, mode.room);
      for (const [who, page] of [['alice', alice], ['bob', bob]]) {
        const pairs = await page.evaluate(() => window.selectedPairs());
        assert.ok(pairs.length >= 1, `${who} has a selected ICE pair`);
        for (const p of pairs) {
          assert.equal(p.localProtocol, 'tcp', `${who}: selected local candidate is TCP: ${JSON.stringify(p)}`);
          assert.equal(p.remoteProtocol, 'tcp', `${who}: selected remote candidate is TCP`);
          assert.equal(p.remotePort, tcp, `${who}: connected to the ICE-TCP port`);
        }
      }
      const metrics = await (await fetch(`${media.httpUrl}/metrics`)).text();
      assert.match(metrics, /parlor_ice_tcp_connections [1-9]/, 'the server counts open ICE-TCP connections');
      console.log(`ICE-TCP (${mode.name}): connected in ${connectedMs.join(' / ')} ms (alice / bob)`);
      await alice.context().close();
      await bob.context().close();
    } finally {
      unblock();
      await media.stop();
    }
  });
}

test('UDP open: the same call uses UDP (baseline for the connect time)', async () => {
  const { media } = await startMediaOnFixedPorts();
  try {
    const { alice, bob, connectedMs } = await call(media);
    const pairs = await alice.evaluate(() => window.selectedPairs());
    assert.ok(pairs.length >= 1 && pairs.every((p) => p.localProtocol === 'udp'), `UDP selected: ${JSON.stringify(pairs)}`);
    console.log(`UDP: connected in ${connectedMs.join(' / ')} ms (alice / bob)`);
    await alice.context().close();
    await bob.context().close();
  } finally {
    await media.stop();
  }
});

for (const mode of [
  { name: 'single peer connection', room: {} },
  { name: 'two peer connections', room: { singlePeerConnection: false } },
]) {
  test(`a call whose UDP path is cut moves to ICE-TCP without re-joining (${mode.name})`, async () => {
    const { media, udp } = await startMediaOnFixedPorts();
    let unblock = () => {};
    try {
      const { alice, bob } = await call(media, mode.room);
      const sids = [await alice.evaluate(() => window.room.localParticipant.sid), await bob.evaluate(() => window.room.localParticipant.sid)];
      assert.ok((await alice.evaluate(() => window.selectedPairs())).every((p) => p.localProtocol === 'udp'), 'starts on UDP');
      const cutAt = Date.now();
      unblock = blockUdpPort(udp);  // the network changes: UDP to the media server is gone
      for (const [who, page] of [['alice', alice], ['bob', bob]]) {
        await waitFor(async () => {
          const pairs = await page.evaluate(() => window.selectedPairs());
          return pairs.length > 0 && pairs.every((p) => p.localProtocol === 'tcp' && p.state === 'connected');
        }, { timeoutMs: 45000, intervalMs: 200, what: `${who} moved to ICE-TCP` });
      }
      const movedMs = Date.now() - cutAt;
      for (const [who, page] of [['alice', alice], ['bob', bob]]) {
        const before = await page.evaluate(() => window.videoProgress());
        try {
          await waitFor(async () => (await page.evaluate(() => window.videoProgress())).frames > before.frames + 20,
            { timeoutMs: 20000, intervalMs: 100, what: `${who}: frames advance again after the move` });
        } catch (e) {
          const diag = await page.evaluate(async () => ({ video: await window.videoProgress(), pairs: await window.selectedPairs(),
            state: window.room.state, events: window.state.events, audio: await window.remoteAudioPackets() }));
          throw new Error(`${e.message}: ${JSON.stringify(diag)} (before ${JSON.stringify(before)})`);
        }
      }
      console.log(`UDP cut mid-call (${mode.name}): both on ICE-TCP after ${movedMs} ms`);
      const recoveredMs = Date.now() - cutAt;
      assert.deepEqual([await alice.evaluate(() => window.room.localParticipant.sid), await bob.evaluate(() => window.room.localParticipant.sid)],
        sids, 'the same participants: no re-join');
      assert.deepEqual(await alice.evaluate(() => window.state.disconnected), [], 'alice never saw bob leave');
      assert.deepEqual(await bob.evaluate(() => window.state.disconnected), [], 'bob never saw alice leave');
      console.log(`UDP cut mid-call (${mode.name}): media over ICE-TCP again after ${recoveredMs} ms`);
      await alice.context().close();
      await bob.context().close();
    } finally {
      unblock();
      await media.stop();
    }
  });
}
