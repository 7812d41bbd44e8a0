// livekit-client's end-to-end encryption through `parlor media` (the shared-key mode privileged
// visits use): two participants with the key see each other; a third with a valid token but no
// key receives the encrypted frames and decodes no moving picture. What Chromium does with them,
// measured: the VP8 keyframe header stays in the clear (livekit-client leaves the first 10 bytes
// unencrypted), so an occasional keyframe "decodes" into noise; no delta frame ever decodes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startMedia } from '../lib/media.js';
import { launchChromium, serveStatic } from '../lib/browser.js';
import { devToken, pageHtml } from '../lib/livekit-page.js';
import { joinKeyless, keylessPeerStats } from '../lib/keyless-peer.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const dist = path.join(repoRoot, 'node_modules/livekit-client/dist');
const KEY = 'q2Lm0cZ3n6Jm1oXb5r8yT4uV7wA9dF0gH2jK4lN6pQ8';

let media;
let site;
let browser;

before(async () => {
  media = await startMedia({ args: ['--dev'] });
  site = await serveStatic({
    '/': { type: 'text/html', body: pageHtml },
    '/livekit-client.umd.js': { type: 'text/javascript', body: readFileSync(path.join(dist, 'livekit-client.umd.js'), 'utf8') },
    '/e2ee-worker.js': { type: 'text/javascript', body: readFileSync(path.join(dist, 'livekit-client.e2ee.worker.js'), 'utf8') },
  });
  browser = await launchChromium();
});

after(async () => {
  await browser?.close();
  await site?.close();
  await media?.stop();
});

async function joinWithKey(identity) {
  const page = await (await browser.newContext()).newPage();
  page.on('pageerror', (e) => console.log(`${identity} pageerror:`, e.message));
  await page.goto(site.url);
  await page.evaluate(async ({ url, token, key }) => {
    const { Room, ExternalE2EEKeyProvider } = window.LivekitClient;
    const keyProvider = new ExternalE2EEKeyProvider();
    await keyProvider.setKey(key);
    const room = new Room({ encryption: { keyProvider, worker: new Worker('/e2ee-worker.js') } });
    await room.setE2EEEnabled(true);
    window.room = room;
    await room.connect(url, token);
    await room.localParticipant.enableCameraAndMicrophone();
  }, { url: media.url, token: await devToken(identity, 'privileged-1'), key: KEY });
  return page;
}

/** Frames the page decoded of every remote video track. */
const decodedByKeyHolder = (page) => page.evaluate(async () => {
  let n = 0;
  for (const p of window.room.remoteParticipants.values()) {
    for (const pub of p.videoTrackPublications.values()) {
      (await pub.track?.receiver?.getStats())?.forEach((s) => { if (s.type === 'inbound-rtp') n += s.framesDecoded ?? 0; });
    }
  }
  return n;
});

test('a participant without the key gets the encrypted frames and decodes no picture', async () => {
  const alice = await joinWithKey('alice');
  const bob = await joinWithKey('bob');
  await alice.waitForFunction(() => window.room.isE2EEEnabled, null, { timeout: 15000 });
  const eve = await (await browser.newContext()).newPage();
  await eve.goto(site.url);
  await joinKeyless(eve, media.url, await devToken('eve', 'privileged-1'));
  const stats = await keylessPeerStats(eve, { minVideoTracks: 2, minBytesPerTrack: 400_000, timeoutMs: 40000 });
  console.log('keyless participant:', JSON.stringify(stats));
  for (const s of stats) {
    assert.ok(s.framesReceived >= 60, `${s.identity}: encrypted frames arrive (${s.framesReceived})`);
    assert.ok(s.framesDecoded <= s.keyFramesDecoded, `${s.identity}: no delta frame decoded (${s.framesDecoded} decoded, ${s.keyFramesDecoded} keyframes)`);
    assert.ok(s.framesDecoded * 10 < s.framesReceived, `${s.identity}: almost nothing decodes (${s.framesDecoded} of ${s.framesReceived})`);
    assert.ok(s.presented <= s.keyFramesDecoded, `${s.identity}: no moving picture (${s.presented} frames shown)`);
  }
  // Meanwhile the key holders decode each other's video.
  for (const page of [alice, bob]) {
    await page.waitForFunction(async () => {
      let n = 0;
      for (const p of window.room.remoteParticipants.values()) {
        for (const pub of p.videoTrackPublications.values()) {
          if (pub.participant?.identity === 'eve') continue;
          (await pub.track?.receiver?.getStats())?.forEach((s) => { if (s.type === 'inbound-rtp') n += s.framesDecoded ?? 0; });
        }
      }
      return n >= 60;
    }, null, { timeout: 20000, polling: 250 });
  }
  console.log(`key holders decoded: alice ${await decodedByKeyHolder(alice)}, bob ${await decodedByKeyHolder(bob)}`);
});
