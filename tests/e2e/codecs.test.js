// The publisher's codec choice with the official livekit-client in Chromium: a participant that
// publishes with `videoCodec: 'h264'` sends H.264 (simulcast), the server announces the track as
// video/H264 and forwards it as such, and the other participant decodes H.264 — on both
// signaling paths — while its own default VP8 reaches the H.264 publisher as VP8; and the server
// negotiates RTX for video both ways and Opus RED for a publisher that keeps livekit-client's
// default (`red: true`), Opus alone for one with `red: false`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { waitFor } from '../lib/media.js';
import { startRoomEnvironment, expectMediaFlowing, devToken as token } from '../lib/livekit-page.js';

let env;

before(async () => {
  env = await startRoomEnvironment(['--dev']);
});

after(async () => {
  await env?.stop();
});

for (const mode of [
  { name: 'single peer connection', room: {} },
  { name: 'two peer connections', room: { singlePeerConnection: false } },
]) {
  test(`an H.264 publisher is decoded as H.264, a VP8 one as VP8, RED negotiated: ${mode.name}`, async () => {
    const room = `codec-${Math.random().toString(36).slice(2, 8)}`;
    const alice = await env.openPage();
    const bob = await env.openPage();
    const h264 = { ...mode.room, publishDefaults: { videoCodec: 'h264', simulcast: true } };
    await alice.evaluate(([u, t, c]) => window.join(u, t, { room: c }), [env.media.url, await token('alice', room), h264]);
    const noRed = { ...mode.room, publishDefaults: { red: false } };
    await bob.evaluate(([u, t, c]) => window.join(u, t, { room: c }), [env.media.url, await token('bob', room), noRed]);
    await expectMediaFlowing(bob, 'bob');
    await expectMediaFlowing(alice, 'alice');

    let codecs;
    await waitFor(async () => {
      codecs = { alice: await alice.evaluate(() => window.trackCodecs()), bob: await bob.evaluate(() => window.trackCodecs()) };
      return codecs.bob.remote[0]?.decoded && codecs.alice.remote[0]?.decoded && codecs.alice.local[0]?.sent;
    }, { timeoutMs: 10000, intervalMs: 200, what: 'codec statistics' });
    const what = JSON.stringify(codecs);
    assert.equal(codecs.alice.local[0].sent, 'video/H264', `alice sends H.264: ${what}`);
    assert.equal(codecs.bob.remote[0].decoded, 'video/H264', `bob decodes alice's video as H.264: ${what}`);
    assert.match(codecs.bob.remote[0].announced, /^video\/h264$/i, `the server announces alice's track as H.264: ${what}`);
    assert.equal(codecs.alice.remote[0].decoded, 'video/VP8', `alice decodes bob's default VP8: ${what}`);
    assert.match(codecs.alice.remote[0].announced, /^video\/vp8$/i, what);
    // Opus RED: the server's answer to alice (red default) puts RED ahead of Opus for her
    // microphone, so Chromium sends RED; bob (red: false) is answered Opus alone. Chromium's
    // statistics name RED "audio/opus", so the packets' payload types are not visible from here
    // (the unit tests cover the forwarding); audio flows both ways (expectMediaFlowing).
    const publishedAudio = (page) => page.evaluate(() => window.peerConnections
      .filter((pc) => pc.connectionState !== 'closed' && pc.remoteDescription)
      .flatMap((pc) => pc.remoteDescription.sdp.split('\r\nm=').filter((m) => m.startsWith('audio') && /a=recvonly/.test(m)))
      .map((m) => m.split('\r\n')[0]));
    const aliceAudio = await publishedAudio(alice);
    const bobAudio = await publishedAudio(bob);
    assert.equal(aliceAudio.length, 1, `alice publishes one audio section: ${aliceAudio}`);
    assert.match(aliceAudio[0], /^audio \d+ \S+ 63 111$/, 'RED is answered ahead of Opus for a red publisher');
    assert.match(bobAudio[0], /^audio \d+ \S+ 111$/, 'Opus alone for a publisher with red: false');
    let audio;
    await waitFor(async () => {
      audio = { alice: await alice.evaluate(() => window.trackCodecs('audio')), bob: await bob.evaluate(() => window.trackCodecs('audio')) };
      return audio.bob.remote[0]?.decoded && audio.alice.remote[0]?.decoded;
    }, { timeoutMs: 10000, intervalMs: 200, what: 'audio codec statistics' });
    console.log(`${mode.name}: audio ${JSON.stringify(audio)}`);

    // RTX (RFC 4588) negotiated both ways: in what the server sent for every connection carrying
    // video (its answer to the publisher, its answer or offer for the subscriber).
    for (const [who, page] of [['alice', alice], ['bob', bob]]) {
      const descriptions = await page.evaluate(() => window.peerConnections
        .filter((pc) => pc.connectionState !== 'closed' && /m=video [1-9]/.test(pc.remoteDescription?.sdp ?? ''))
        .map((pc) => pc.remoteDescription.sdp));
      assert.ok(descriptions.length >= 1, `${who} has a connection carrying video`);
      for (const sdp of descriptions) assert.match(sdp, /a=rtpmap:\d+ rtx\/90000\r\na=fmtp:\d+ apt=\d+/, `${who}: the server negotiated RTX`);
    }
    const layers = await alice.evaluate(() => window.publisherLayers());
    console.log(`${mode.name}: alice's H.264 layers ${JSON.stringify(layers.map((l) => ({ rid: l.rid, width: l.width, bytes: l.bytes })))}`);
    for (const p of [alice, bob]) await p.context().close();
  });
}
