// A LiveKit room end to end with the official livekit-client in Debian's Chromium: two
// participants publish camera and microphone through `parlor media`, each decodes the other's
// video and receives the other's audio, a mute shows on the other side, and a departure is
// seen within 2 s. Webhooks are checked with livekit-server-sdk's WebhookReceiver.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { WebhookReceiver } from 'livekit-server-sdk';
import { devKey, devSecret, waitFor } from '../lib/media.js';
import { startRoomEnvironment, expectMediaFlowing, devToken as token } from '../lib/livekit-page.js';
import { startWebhookSink } from '../lib/webhook-sink.js';

let env;
let media;
let sink;

before(async () => {
  sink = await startWebhookSink();
  env = await startRoomEnvironment(['--dev', '--webhook', sink.url]);
  media = env.media;
});

after(async () => {
  await env?.stop();
  await sink?.close();
});

const openPage = () => env.openPage();


for (const mode of [
  { name: 'single peer connection (default)', room: {} },
  { name: 'two peer connections (singlePeerConnection: false)', room: { singlePeerConnection: false } },
  { name: 'adaptive stream and dynacast', room: { adaptiveStream: true, dynacast: true } },
]) {
  test(`two browsers see and hear each other: ${mode.name}`, async () => {
    const room = `visit-${Math.random().toString(36).slice(2, 8)}`;
    const alice = await openPage();
    const bob = await openPage();
    await alice.evaluate(([u, t, c]) => window.join(u, t, { room: c }), [media.url, await token('alice', room), mode.room]);
    const bobJoin = await bob.evaluate(([u, t, c]) => window.join(u, t, { room: c }), [media.url, await token('bob', room), mode.room]);
    assert.equal(bobJoin.remotes, 1, 'bob sees alice in the room at join');

    await expectMediaFlowing(alice, 'alice');
    await expectMediaFlowing(bob, 'bob');
    if (!mode.room.dynacast) {
      // With transport-cc feedback the publisher's estimate ramps fast: every simulcast layer,
      // the full-resolution one included, is soon being sent (the time is logged, not asserted).
      await waitFor(async () => {
        const layers = await alice.evaluate(() => window.publisherLayers());
        return layers.length >= 3 && layers.every((l) => l.bytes > 0 && l.width > 0);
      }, { timeoutMs: 15000, intervalMs: 100, what: 'all simulcast layers flowing at the publisher' });
      const took = await alice.evaluate(() => Date.now() - window.state.joinStarted);
      console.log(`all simulcast layers flowing ${took} ms after join (${mode.name})`);
    }
    // Sender reports reach subscribers for audio and video (lip sync needs both).
    for (const page of [alice, bob]) {
      await waitFor(async () => {
        const kinds = await page.evaluate(() => window.remoteSenderReports());
        return kinds.includes('audio') && kinds.includes('video');
      }, { timeoutMs: 8000, intervalMs: 200, what: 'remote-outbound-rtp (sender reports) for audio and video' });
    }
    if (mode.room.dynacast) {
      // Bob shows Alice in a small element, so only her low layer is wanted: the top one stops.
      // The wait is generous: on 2 loaded cores adaptive stream's first size report and the
      // publisher's reaction to the quality update can take several seconds (CI once passed 8 s).
      await waitFor(async () => {
        const active = await alice.evaluate(() => {
          const pub = [...window.room.localParticipant.videoTrackPublications.values()][0];
          return pub.track.sender.getParameters().encodings.map((e) => e.active);
        });
        return active.length > 1 && active[0] && !active[active.length - 1];
      }, { timeoutMs: 20000, intervalMs: 100, what: 'dynacast turning off the layers nobody watches' });
    }
    // Active speakers (from the audio-level header extension of the fake microphone's tone).
    await waitFor(async () => (await bob.evaluate(() => window.state.speakers)).some((s) => s.includes('alice')),
      { timeoutMs: 8000, intervalMs: 100, what: 'alice reported as an active speaker at bob' });
    // Connection quality reaches the other side (ConnectionQualityIndicator needs it).
    await waitFor(async () => (await bob.evaluate(() => [...window.room.remoteParticipants.values()][0]?.connectionQuality)) !== 'unknown',
      { timeoutMs: 8000, intervalMs: 100, what: 'connection quality of alice at bob' });

    // A reliable data message each way.
    await alice.evaluate(() => window.sendText('hello bob'));
    await waitFor(async () => (await bob.evaluate(() => window.state.data)).some((d) => d.text === 'hello bob' && d.from === 'alice'),
      { timeoutMs: 5000, intervalMs: 50, what: 'data message alice → bob' });
    await bob.evaluate(() => window.sendText('hello alice'));
    await waitFor(async () => (await alice.evaluate(() => window.state.data)).some((d) => d.text === 'hello alice' && d.from === 'bob'),
      { timeoutMs: 5000, intervalMs: 50, what: 'data message bob → alice' });

    // Alice's signaling connection drops: she resumes the same session (ReconnectResponse,
    // ICE restart), Bob never sees her leave, and media and data keep flowing.
    const aliceSid = await alice.evaluate(() => window.room.localParticipant.sid);
    await alice.evaluate(() => new Promise((resolve, reject) => {
      window.room.once('reconnected', resolve);
      window.room.once('disconnected', () => reject(new Error('disconnected instead of resuming')));
      window.room.simulateScenario('signal-reconnect');
    }));
    assert.equal(await alice.evaluate(() => window.room.localParticipant.sid), aliceSid, 'same session after resume');
    assert.equal(await bob.evaluate(() => window.state.disconnected.length), 0, 'bob never saw alice leave');
    const beforeFrames = (await bob.evaluate(() => window.videoProgress())).frames;
    await waitFor(async () => (await bob.evaluate(() => window.videoProgress())).frames > beforeFrames + 15,
      { timeoutMs: 10000, intervalMs: 100, what: 'video from alice after her resume' });
    await alice.evaluate(() => window.sendText('after resume'));
    await waitFor(async () => (await bob.evaluate(() => window.state.data)).some((d) => d.text === 'after resume'),
      { timeoutMs: 5000, intervalMs: 50, what: 'data after resume' });

    // Alice mutes her microphone; Bob sees the publication muted.
    const micSid = await alice.evaluate(async () => {
      const pub = [...window.room.localParticipant.audioTrackPublications.values()][0];
      await pub.mute();
      return pub.trackSid;
    });
    await waitFor(async () => (await bob.evaluate((sid) => window.state.muted[sid], micSid)) === true, { timeoutMs: 5000, intervalMs: 100, what: 'mute not seen by bob' });

    // Alice leaves; Bob sees ParticipantDisconnected within 2 s.
    const leftAt = Date.now();
    await alice.evaluate(() => window.room.disconnect());
    await waitFor(async () => (await bob.evaluate(() => window.state.disconnected.length)) > 0, { timeoutMs: 5000, intervalMs: 100, what: 'bob did not see alice leave' });
    const seen = await bob.evaluate(() => window.state.disconnected[0]);
    assert.equal(seen.identity, 'alice');
    assert.ok(seen.at - leftAt < 2000, `departure took ${seen.at - leftAt} ms`);
    await bob.evaluate(() => window.room.disconnect());
    await alice.context().close();
    await bob.context().close();

    // Webhooks: every one verifies, and the sequence for this room is causal.
    const receiver = new WebhookReceiver(devKey, devSecret);
    await waitFor(() => sink.received.filter((r) => r.body.includes(room)).length >= 9, { timeoutMs: 10000, intervalMs: 100, what: 'webhooks missing' });
    const events = [];
    for (const r of sink.received) {
      const e = await receiver.receive(r.body, r.headers.authorization);
      if (e.room?.name === room) events.push(`${e.event}:${e.participant?.identity ?? ''}:${e.track?.type ?? ''}`);
    }
    assert.equal(events[0], 'room_started::');
    assert.ok(events.indexOf('participant_joined:alice:') < events.indexOf('participant_joined:bob:'));
    for (const who of ['alice', 'bob']) {
      assert.equal(events.filter((e) => e === `participant_joined:${who}:`).length, 1, `${who} joined once`);
      assert.equal(events.filter((e) => e.startsWith(`track_published:${who}`)).length, 2, `${who} published 2 tracks`);
      assert.ok(events.indexOf(`participant_joined:${who}:`) < events.findIndex((e) => e.startsWith(`track_published:${who}`)));
      assert.ok(events.lastIndexOf(`participant_left:${who}:`) > events.findLastIndex((e) => e.startsWith(`track_unpublished:${who}`)));
    }
  });
}
