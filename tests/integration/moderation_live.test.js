// RoomService acting on live participants (what the visitation app's moderation relies on),
// with @livekit/rtc-node participants and livekit-server-sdk's RoomServiceClient:
// list, mute a published track, update metadata, send data, remove.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  Room, RoomEvent, AudioSource, AudioFrame, LocalAudioTrack, TrackPublishOptions, TrackSource, dispose,
} from '@livekit/rtc-node';
import { RoomServiceClient, DataPacket_Kind } from 'livekit-server-sdk';
import { startMedia, devKey, devSecret, waitFor } from '../lib/media.js';
import { devToken } from '../lib/livekit-page.js';

let media;
let rooms;

before(async () => {
  media = await startMedia({ args: ['--dev'] });
  rooms = new RoomServiceClient(media.httpUrl, devKey, devSecret);
});

after(async () => {
  await media?.stop();
  await dispose();
});

test('RoomService lists, mutes, updates, messages and removes live participants', async () => {
  const roomName = 'moderated-visit';
  const resident = new Room();
  const visitor = new Room();
  const events = { muted: [], metadata: [], data: [], disconnected: null };
  resident.on(RoomEvent.TrackMuted, (pub, p) => events.muted.push({ sid: pub.sid, who: p.identity }));
  resident.on(RoomEvent.ParticipantMetadataChanged, (md, p) => events.metadata.push({ md, who: p.identity }));
  resident.on(RoomEvent.DataReceived, (payload, p, kind, topic) => events.data.push({ text: new TextDecoder().decode(payload), from: p?.identity, topic }));
  visitor.on(RoomEvent.Disconnected, (reason) => { events.disconnected = reason; });

  await resident.connect(media.url, await devToken('resident', roomName), { autoSubscribe: true, dynacast: false });
  await visitor.connect(media.url, await devToken('visitor', roomName), { autoSubscribe: true, dynacast: false });

  // The visitor publishes a microphone (a synthetic tone).
  const source = new AudioSource(48000, 1);
  const track = LocalAudioTrack.createAudioTrack('mic', source);
  const options = new TrackPublishOptions();
  options.source = TrackSource.SOURCE_MICROPHONE;
  const pub = await visitor.localParticipant.publishTrack(track, options);
  const samples = new Int16Array(480);
  let feeding = true;
  (async () => {
    let n = 0;
    while (feeding) {
      for (let i = 0; i < samples.length; i++) samples[i] = Math.round(8000 * Math.sin((n++ * 2 * Math.PI * 440) / 48000));
      await source.captureFrame(new AudioFrame(samples, 48000, 1, 480));
    }
  })();

  try {
    const listed = await waitFor(async () => {
      const ps = await rooms.listParticipants(roomName);
      return ps.length === 2 && ps.find((p) => p.identity === 'visitor')?.tracks.length === 1 ? ps : null;
    }, { timeoutMs: 10000, intervalMs: 100, what: 'both participants and the track listed' });
    const trackSid = listed.find((p) => p.identity === 'visitor').tracks[0].sid;
    assert.equal(trackSid, pub.sid);

    const mutedInfo = await rooms.mutePublishedTrack(roomName, 'visitor', trackSid, true);
    assert.equal(mutedInfo.sid, trackSid);
    await waitFor(() => events.muted.some((m) => m.sid === trackSid && m.who === 'visitor'),
      { timeoutMs: 5000, what: 'the resident sees the visitor muted' });

    await rooms.updateParticipant(roomName, 'visitor', { metadata: '{"role":"visitor"}' });
    await waitFor(() => events.metadata.some((m) => m.who === 'visitor'), { timeoutMs: 5000, what: 'metadata change seen' });
    assert.equal((await rooms.getParticipant(roomName, 'visitor')).metadata, '{"role":"visitor"}');

    await rooms.sendData(roomName, new TextEncoder().encode('visit ends in 2 minutes'), DataPacket_Kind.RELIABLE, { topic: 'parlor' });
    await waitFor(() => events.data.some((d) => d.text === 'visit ends in 2 minutes' && d.topic === 'parlor'),
      { timeoutMs: 5000, what: 'server data message received' });

    await rooms.removeParticipant(roomName, 'visitor');
    await waitFor(() => events.disconnected !== null, { timeoutMs: 5000, what: 'the removed visitor is disconnected' });
    const left = await rooms.listParticipants(roomName);
    assert.deepEqual(left.map((p) => p.identity), ['resident']);
    await assert.rejects(rooms.getParticipant(roomName, 'visitor'), /not/i);
  } finally {
    feeding = false;
    await visitor.disconnect().catch(() => {});
    await resident.disconnect();
  }
});
