// Calls through Parlor's own TURN server with livekit-client in Chromium, the browser told to use
// relay candidates only (iceTransportPolicy 'relay') and UDP to the media port refused: first over
// TURN/UDP (TCP to the TURN/TLS port refused, so that is the only relay), then, with UDP to the
// TURN port refused instead, over TURN/TLS. The ICE servers come
// from the JoinResponse (per-participant credentials), as they do for every LiveKit client.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startMedia, waitFor } from '../lib/media.js';
import { serveLivekitPage, devToken as token } from '../lib/livekit-page.js';
import { launchChromium } from '../lib/browser.js';
import { blockTcpPort, blockUdpPort, randomPort } from '../lib/netblock.js';
import { makeTestCa } from '../lib/tls.js';

let site;
let browser;
let ca;
let cert;
let media;
let ports;

before(async () => {
  ca = makeTestCa();
  cert = ca.issue('turn');
  site = await serveLivekitPage();
  browser = await launchChromium([`--ignore-certificate-errors-spki-list=${cert.spki}`]);
  for (let attempt = 0; attempt < 5 && !ports; attempt++) {
    const p = { udp: randomPort(), turnUdp: randomPort(), turnTls: randomPort() };
    media = await startMedia({
      args: ['--udp-port', String(p.udp), '--tcp-port', '0'],
      config: `development: true\nturn:\n  enabled: true\n  udp_port: ${p.turnUdp}\n  tls_port: ${p.turnTls}\n` +
        `  cert_file: ${cert.cert}\n  key_file: ${cert.key}\n`,
    });
    await waitFor(() => /listening udp=/.test(media.stdout()), { what: 'startup lines' });
    const out = media.stdout();
    if (out.includes(`turn-udp=127.0.0.1:${p.turnUdp}`) && out.includes(`turn-tls=127.0.0.1:${p.turnTls}`)) ports = p;
    else await media.stop();
  }
  assert.ok(ports, 'parlor media serves TURN/UDP and TURN/TLS');
});

after(async () => {
  await media?.stop();
  await browser?.close();
  await site?.close();
  ca?.remove();
});

async function openPage() {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => console.log('pageerror:', e.message));
  await page.goto(site.url);
  return page;
}

async function relayedCall(expectRelayProtocol) {
  const room = `turn-${Math.random().toString(36).slice(2, 8)}`;
  const pages = [await openPage(), await openPage()];
  const relayOnly = { connect: { rtcConfig: { iceTransportPolicy: 'relay' } } };
  for (const [i, page] of pages.entries()) {
    const who = i === 0 ? 'alice' : 'bob';
    await page.evaluate(([u, t, o]) => window.join(u, t, o), [media.url, await token(who, room), relayOnly]);
  }
  for (const [i, page] of pages.entries()) {
    const who = i === 0 ? 'alice' : 'bob';
    await waitFor(async () => (await page.evaluate(() => window.videoProgress()))?.width > 0,
      { timeoutMs: 20000, intervalMs: 100, what: `${who} never decoded remote video through TURN` });
    const first = await page.evaluate(() => window.videoProgress());
    try {
      await waitFor(async () => (await page.evaluate(() => window.videoProgress())).frames > first.frames + 20,
        { timeoutMs: 10000, intervalMs: 100, what: `${who}: video through TURN stopped advancing` });
    } catch (e) {
      const diag = await page.evaluate(async () => ({ video: await window.videoProgress(), pairs: await window.selectedPairs(),
        state: window.room.state, events: window.state.events, audio: await window.remoteAudioPackets() }));
      const metrics = (await (await fetch(`${media.httpUrl}/metrics`)).text()).split('\n').filter((l) => /turn|srtp|unknown/.test(l) && !l.startsWith('#'));
      throw new Error(`${e.message}: ${JSON.stringify(diag)} (first ${JSON.stringify(first)}) ${metrics.join(' ')}`);
    }
    const pairs = await page.evaluate(() => window.selectedPairs());
    assert.ok(pairs.length >= 1, `${who} has a selected pair`);
    for (const p of pairs) {
      assert.equal(p.localType, 'relay', `${who}: local candidate is a relay: ${JSON.stringify(p)}`);
      assert.equal(p.relayProtocol, expectRelayProtocol, `${who}: reaches TURN over ${expectRelayProtocol}`);
    }
  }
  const connectedMs = await Promise.all(pages.map((p) => p.evaluate(() => window.state.connectedMs)));
  for (const p of pages) await p.context().close();
  return connectedMs;
}

test('relay only, UDP to the media port refused: the call goes through TURN/UDP', async () => {
  const unblockMedia = blockUdpPort(ports.udp);
  const unblockTls = blockTcpPort(ports.turnTls);
  try {
    const ms = await relayedCall('udp');
    console.log(`TURN/UDP: connected in ${ms.join(' / ')} ms (alice / bob)`);
  } finally {
    unblockTls();
    unblockMedia();
  }
});

test('relay only, UDP refused to the media and TURN ports: the call goes through TURN/TLS', async () => {
  const unblockMedia = blockUdpPort(ports.udp);
  const unblockTurn = blockUdpPort(ports.turnUdp);
  try {
    const ms = await relayedCall('tls');
    console.log(`TURN/TLS: connected in ${ms.join(' / ')} ms (alice / bob)`);
    const metrics = await (await fetch(`${media.httpUrl}/metrics`)).text();
    assert.match(metrics, /parlor_turn_relayed_to_media_total [1-9]/);
  } finally {
    unblockTurn();
    unblockMedia();
  }
});
